import type { Bundle, OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { allExamples } from '@imaging/fhir/examples';
import { describe, expect, it } from 'vitest';
import { note, requireTarget, suiteOptions } from '../suite/context.ts';
import { readPathwayRun } from '../suite/pathway-run.ts';
import type { RawFhir } from '../suite/raw-fhir.ts';
import { describeAnswer, rawFhir } from '../suite/raw-fhir.ts';

/**
 * Group 3: the server's own validator (`$validate`, after the project's StructureDefinitions were
 * loaded by the global set-up) accepts each example resource, and every kind of resource the services
 * wrote while the pathway ran on it. An issue of severity error or fatal fails the test; warnings and
 * information are listed in the report.
 */
const target = requireTarget();
const options = suiteOptions();

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';
const describeIssue = (i: OperationOutcomeIssue) =>
  `${i.severity} ${i.code}${i.expression?.length ? ` at ${i.expression.join(', ')}` : ''}: ${i.diagnostics ?? i.details?.text ?? ''}`;

async function expectValid(fhir: RawFhir, resource: Resource): Promise<void> {
  const answer = await fhir.request<OperationOutcome>('POST', `${resource.resourceType}/$validate`, { body: resource });
  const outcome = answer.body;
  expect(outcome?.resourceType, `$validate answered ${describeAnswer(answer)}`).toBe('OperationOutcome');
  const issues = outcome?.issue ?? [];
  const errors = issues.filter(isError);
  const others = issues.filter((i) => !isError(i) && i.severity !== 'information');
  if (others.length) note(`${others.length} warning(s): ${others.map(describeIssue).join(' | ')}`);
  expect(errors.map(describeIssue), `$validate errors for ${resource.resourceType}`).toEqual([]);
  // 200 with no error issue is a pass; some servers answer 412/422 with the issues instead.
  expect(answer.status, describeAnswer(answer)).toBe(200);
}

describe('example resources', () => {
  const fhir = rawFhir(target.base);
  it.each(
    allExamples().map(
      (r) =>
        [
          `${r.resourceType} ${(r as { identifier?: { value?: string }[] }).identifier?.[0]?.value ?? r.id ?? ''}`.trim(),
          r,
        ] as const,
    ),
  )('%s is valid to the server', async (_, resource) => {
    await expectValid(fhir, resource);
  });
});

/** What each store holds after the pathway: the kinds of resource the services write there. */
const WRITTEN_BY_SERVICES: Readonly<Record<string, readonly string[]>> = {
  hub: ['Organization', 'Endpoint', 'AuditEvent', 'DocumentReference', 'Basic'],
  north: ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Bundle'],
  midlands: ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Endpoint', 'Bundle'],
};
/** Per kind and store, the newest few are enough: they come from the same code. */
const SAMPLE = 3;

// Only when this run also runs the pathway (group 4, which the sequencer puts first): its resources
// are what is checked here.
if (options.groups.includes(4) && target.partitioned)
  describe('resources the services wrote during the pathway (group 4)', () => {
    const cases = Object.entries(WRITTEN_BY_SERVICES).flatMap(([store, types]) =>
      types.map((type) => [`${type} in ${store}`, store, type] as const),
    );
    it.for(cases)('%s is valid to the server', async ([, store, type], { skip }) => {
      const run = readPathwayRun(options.workDir);
      // `pnpm conformance` runs the pathway first; a bare `vitest --project conformance` may not.
      if (!run)
        return skip(
          'the pathway group (4) has not run before this one in this run: run the suite with pnpm conformance',
        );
      const fhir = rawFhir(`${target.root}/${store}`);
      const found = await fhir.search(type, {
        _lastUpdated: `ge${run?.startedAt}`,
        _sort: '-_lastUpdated',
        _count: String(SAMPLE),
      });
      expect(found.status, describeAnswer(found)).toBe(200);
      const resources = ((found.body as Bundle | undefined)?.entry ?? [])
        .map((e) => e.resource)
        .filter((r): r is Resource => !!r);
      expect(resources.length, `the pathway wrote ${type} resources in ${store}`).toBeGreaterThan(0);
      note(`validated ${resources.length}: ${resources.map((r) => `${r.resourceType}/${r.id}`).join(', ')}`);
      for (const resource of resources) await expectValid(fhir, resource);
    });
  });
