import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HazardLogError } from './hazard-log.ts';
import { buildSafetyCase } from './safety-case.ts';

/**
 * `pnpm safety-case [--log safety/hazard-log.yaml] [--results vitest.json] [--out reports/safety-case]`:
 * runs the tests the hazard log's controls name and writes the safety case report. Exit code 0 when
 * every hazard is green, 1 when any is red, 2 for a bad option or an invalid log.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const USAGE = 'usage: pnpm safety-case [--log <hazard-log.yaml>] [--results <vitest.json>] [--out <dir>]';

async function main(): Promise<number> {
  let values: { log?: string; results?: string; out?: string };
  try {
    ({ values } = parseArgs({
      options: { log: { type: 'string' }, results: { type: 'string' }, out: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const started = performance.now();
  try {
    const run = await buildSafetyCase({
      root,
      log: resolve(values.log ?? resolve(root, 'safety/hazard-log.yaml')),
      out: resolve(values.out ?? resolve(root, 'reports/safety-case')),
      ...(values.results ? { results: resolve(values.results) } : {}),
    });
    const { safetyCase, files } = run;
    for (const h of safetyCase.hazards) {
      console.log(`${h.verdict === 'green' ? 'GREEN' : 'RED  '} ${h.id} residual risk ${h.residual.risk}  ${h.title}`);
      for (const reason of h.reasons) console.log(`        ${reason}`);
    }
    const t = safetyCase.totals;
    console.log(
      `safety case ${safetyCase.verdict.toUpperCase()}: ${t.green} of ${t.hazards} hazards green, ${t.testsPassed} of ${t.tests} named tests passed (${((performance.now() - started) / 1000).toFixed(1)} s)`,
    );
    console.log(`report: ${relative(process.cwd(), files.html)}, ${relative(process.cwd(), files.json)}`);
    return run.exitCode;
  } catch (err) {
    if (err instanceof HazardLogError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main();
