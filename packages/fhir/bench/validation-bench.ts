/**
 * Cost of `assertValid` per resource, after the definitions are loaded. Run with:
 *   node packages/fhir/bench/validation-bench.ts
 * (A benchmark script, not a test: timings vary by machine.)
 */
import { validateResource } from '@medplum/core';
import { performance } from 'node:perf_hooks';
import { loadFhirDefinitions } from '../src/definitions.ts';
import { allExamples } from '../src/examples/index.ts';
import { profileIssues } from '../src/validation/profiles/index.ts';
import { assertValid } from '../src/validation/validate.ts';

const ROUNDS = 2_000;

let t = performance.now();
loadFhirDefinitions();
console.log(`loadFhirDefinitions: ${(performance.now() - t).toFixed(0)} ms`);
t = performance.now();
assertValid(allExamples()[0] as never); // the first call also expands the value sets it meets
console.log(`first assertValid (expands its value sets): ${(performance.now() - t).toFixed(0)} ms`);

const examples = allExamples();
for (const resource of examples) for (let i = 0; i < 200; i++) assertValid(resource); // warm up

console.log(
  `\n${'resource'.padEnd(24)} ${'assertValid µs'.padStart(15)} ${'Medplum alone µs'.padStart(17)} ${'profile rules µs'.padStart(17)}`,
);
for (const resource of examples) {
  let start = performance.now();
  for (let i = 0; i < ROUNDS; i++) assertValid(resource);
  const ours = ((performance.now() - start) * 1000) / ROUNDS;
  start = performance.now();
  for (let i = 0; i < ROUNDS; i++) validateResource(resource);
  const medplum = ((performance.now() - start) * 1000) / ROUNDS;
  start = performance.now();
  for (let i = 0; i < ROUNDS; i++) profileIssues(resource, { resource });
  const rules = ((performance.now() - start) * 1000) / ROUNDS;
  const name = resource.resourceType === 'Task' ? `Task/${resource.code?.coding?.[0]?.code}` : resource.resourceType;
  console.log(
    `${name.padEnd(24)} ${ours.toFixed(0).padStart(15)} ${medplum.toFixed(0).padStart(17)} ${rules.toFixed(1).padStart(17)}`,
  );
}
