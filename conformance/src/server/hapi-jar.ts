import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '@imaging/service-process';

/** The repository root, from this file's place in it. */
export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const HAPI_DIR = join(REPO_ROOT, 'infra/hapi-fhir');
export const HAPI_JAR = join(HAPI_DIR, 'target/hapi-fhir-server.jar');
/** The same launcher at the HAPI release before (pom.xml, profile `previous-hapi`), for the upgrade test. */
export const PREVIOUS_HAPI_JAR = join(HAPI_DIR, 'target/previous-hapi/hapi-fhir-server.jar');

export interface StartedHapiJar {
  baseUrl: string;
  pid: number;
  startupMs: number;
  logFile: string;
  stop(): Promise<void>;
}

export interface HapiJarOptions {
  /** Where the server's log goes (and its H2 files, were it on disk). */
  workDir: string;
  /** Default: 10 minutes; a loaded 2-core machine can take several. */
  startupTimeoutMs?: number;
  /** Extra HAPI_* settings. */
  env?: Record<string, string>;
  /** The launcher jar to run; default: HAPI_JAR, built when missing or stale. */
  jar?: string;
  log?: (line: string) => void;
}

/**
 * The launcher jar, built with infra/hapi-fhir/run.sh (Maven, from Maven Central) when it is missing or
 * older than pom.xml or src/: a jar built before a change to the launcher must not be run as if it had it.
 */
export async function ensureHapiJar(log: (line: string) => void = () => undefined): Promise<string> {
  if (!existsSync(HAPI_JAR)) log(`conformance: building ${HAPI_JAR} with infra/hapi-fhir/run.sh build (Maven) ...`);
  return await buildJar('build', HAPI_JAR);
}

/**
 * Brings a launcher jar up to date with infra/hapi-fhir/run.sh (`build` or `build-previous`), which
 * builds it only when it is missing or older than pom.xml or src/.
 */
export async function buildJar(command: 'build' | 'build-previous', jar: string): Promise<string> {
  const code = await new Promise<number | null>((done) => {
    const child = spawn('sh', [join(HAPI_DIR, 'run.sh'), command], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (c) => done(c));
    child.once('error', () => done(-1));
  });
  if (code !== 0 || !existsSync(jar))
    throw new Error(`infra/hapi-fhir/run.sh ${command} failed (exit ${code}); is Maven (mvn) installed?`);
  return jar;
}

/**
 * Runs the launcher jar as a plain process (no container runtime needed): in-memory H2, a free port on
 * 127.0.0.1, the default partitions, and ready once /fhir/metadata answers 200. `stop()` always ends it.
 */
export async function startHapiJar(options: HapiJarOptions): Promise<StartedHapiJar> {
  const log = options.log ?? (() => undefined);
  mkdirSync(options.workDir, { recursive: true });
  // A private copy: a rebuild of infra/hapi-fhir while the server runs must not pull classes from under it.
  const jar = join(options.workDir, 'hapi-fhir-server.jar');
  copyFileSync(options.jar ?? (await ensureHapiJar(log)), jar);
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/fhir`;
  const logFile = join(options.workDir, 'hapi-jar.log');
  const out = openSync(logFile, 'a');
  const began = performance.now();
  const child = spawn('java', ['-Xms256m', '-Xmx1536m', '-XX:+UseG1GC', '-XX:+ExitOnOutOfMemoryError', '-jar', jar], {
    env: {
      ...process.env,
      HAPI_PORT: String(port),
      HAPI_BIND: '127.0.0.1',
      HAPI_DB_URL: 'mem',
      HAPI_DATA_DIR: join(options.workDir, 'h2'),
      ...options.env,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error('java could not be started (is a JRE 17+ installed?)');
  // If the suite itself dies, the server must not outlive it.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);

  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited (${signal ?? code}) during start-up`;
  });
  const stop = async () => {
    process.off('exit', onExit);
    await stopChild(child);
    rmSync(jar, { force: true });
  };
  try {
    await waitForMetadata(baseUrl, options.startupTimeoutMs ?? 600_000, () => exited);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${tail(logFile)}`);
  }
  return { baseUrl, pid, startupMs: performance.now() - began, logFile, stop };
}

/** Polls `<base>/metadata` until it answers 200; a slow first CapabilityStatement is allowed 30 s. */
export async function waitForMetadata(
  baseUrl: string,
  timeoutMs: number,
  gone: () => string | undefined = () => undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = gone();
    if (why) throw new Error(`HAPI FHIR ${why}`);
    try {
      const res = await fetch(`${baseUrl}/metadata`, {
        headers: { Accept: 'application/fhir+json' },
        signal: AbortSignal.timeout(30_000),
      });
      await res.body?.cancel();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`HAPI FHIR did not answer 200 on ${baseUrl}/metadata within ${Math.round(timeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await gone;
  clearTimeout(timer);
}

function tail(file: string, lines = 25): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n');
    return [`last ${Math.min(lines, text.length)} lines of ${file}:`, ...text.slice(-lines)].join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}
