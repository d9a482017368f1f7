import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { suiteOptionsFromEnv } from '../cli/options.ts';
import { prepareServer } from '../server/prepare.ts';
import { REPO_ROOT } from '../server/hapi-jar.ts';
import type { HapiDatabase, HapiMode } from '../server/resolve.ts';
import { HAPI_DATABASES, HAPI_MODES, resolveTarget } from '../server/resolve.ts';
import './meta.ts';
import { recordSetupError } from './setup-error.ts';

/** Where runs keep their scratch data (git-ignored: service keys and logs live here). */
export const WORK_ROOT = join(REPO_ROOT, '.data', 'conformance');
/** Older runs' scratch directories beyond this many are removed at start. */
const KEEP_RUNS = 3;

const log = (line: string) => void process.stderr.write(`${line}\n`);

/**
 * One server per run: resolves (or starts) the FHIR server under test once, readies it, hands it to
 * every test file through `provide`, and stops whatever it started when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    return await setUp(project);
  } catch (err) {
    recordSetupError(err);
    throw err;
  }
}

async function setUp(project: TestProject): Promise<() => Promise<void>> {
  const options = suiteOptionsFromEnv(process.env, WORK_ROOT);
  mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
  pruneOldRuns(dirname(options.workDir), options.workDir);
  project.provide('options', options);

  if (options.actor) {
    log(
      `conformance: actor tests for the ${options.actor} role against ${options.actorTarget ?? 'our own regional gateway'}`,
    );
    project.provide('target', null);
    return async () => undefined;
  }
  const mode = (process.env.CONFORMANCE_HAPI ?? 'auto') as HapiMode;
  if (!HAPI_MODES.includes(mode))
    throw new Error(`CONFORMANCE_HAPI must be one of ${HAPI_MODES.join(', ')}, not '${mode}'`);
  const database = (process.env.CONFORMANCE_DB ?? 'h2') as HapiDatabase;
  if (!HAPI_DATABASES.includes(database))
    throw new Error(`CONFORMANCE_DB must be one of ${HAPI_DATABASES.join(', ')}, not '${database}'`);
  const resolved = await resolveTarget({
    ...(process.env.CONFORMANCE_TARGET ? { given: process.env.CONFORMANCE_TARGET } : {}),
    mode,
    database,
    runId: options.runId,
    workDir: options.workDir,
    log,
  });
  try {
    await prepareServer(resolved.info, log);
  } catch (err) {
    await resolved.stop();
    throw err;
  }
  project.provide('target', resolved.info);
  return async () => {
    await resolved.stop();
    if (resolved.info.how !== 'given') log(`conformance: stopped the HAPI FHIR ${resolved.info.how} the suite started`);
  };
}

function pruneOldRuns(root: string, current: string): void {
  let runs: string[];
  try {
    runs = readdirSync(root).map((name) => join(root, name));
  } catch {
    return;
  }
  const old = runs
    .filter((dir) => dir !== current)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
    .slice(KEEP_RUNS - 1);
  for (const dir of old) rmSync(dir, { recursive: true, force: true });
}
