/**
 * Readies HAPI FHIR for the hub and the gateways, idempotently. The compose one-shot and the Kubernetes
 * Job run it in full; the services' Kubernetes init containers run it with --wait-only.
 *
 *   node infra/topology/scripts/prepare-hapi.ts [--wait-only] [--timeout 900] --partitions hub,north <hapi-fhir-base>
 *
 * 1. waits until `<base>/metadata` answers 200 (HAPI takes minutes to start);
 * 2. creates the reference-identifier SearchParameters the HTTP store relies on in the DEFAULT
 *    partition, where HAPI applies them to every partition (skipped with --wait-only);
 * 3. waits until each partition accepts a search on every one of them: HAPI only indexes resources
 *    written after a SearchParameter is active, so nothing may be written before.
 * Exit codes: 0 ready, 1 not ready in time or refused, 2 bad usage.
 */
import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import {
  HttpStore,
  OutcomeError,
  prepareReferenceIdentifierSearch,
  untilReferenceIdentifiersSearchable,
} from '@imaging/fhir';

export const USAGE =
  'usage: prepare-hapi.ts [--wait-only] [--timeout <seconds>] --partitions <p1,p2,...> <hapi-fhir-base>';

export interface PrepareOptions {
  /** HAPI's FHIR root, without a partition: `http://hapi:8080/fhir`. */
  base: string;
  partitions: string[];
  waitOnly: boolean;
  timeoutMs: number;
}

export class UsageError extends Error {}

const PARTITION = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function parsePrepareArgs(argv: string[]): PrepareOptions {
  const config = {
    args: argv,
    allowPositionals: true,
    options: {
      partitions: { type: 'string' },
      'wait-only': { type: 'boolean', default: false },
      timeout: { type: 'string', default: '900' },
    },
  } satisfies ParseArgsConfig;
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError('expected exactly one HAPI FHIR base URL');
  const base = (positionals[0] as string).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`not a URL: ${base}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`not an http(s) URL: ${base}`);
  if (url.search || url.hash) throw new UsageError(`the base URL takes no query or fragment: ${base}`);
  const partitions = (values.partitions ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (partitions.length === 0)
    throw new UsageError('--partitions is required: the partitions the services use, e.g. hub,north');
  const bad = partitions.filter((p) => !PARTITION.test(p) || p === 'DEFAULT');
  if (bad.length) throw new UsageError(`not a service partition: ${bad.join(', ')}`);
  const seconds = Number(values.timeout);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400)
    throw new UsageError(`--timeout must be whole seconds between 1 and 86400, not '${values.timeout}'`);
  return { base, partitions, waitOnly: values['wait-only'], timeoutMs: seconds * 1000 };
}

export interface WaitDeps {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  log: (line: string) => void;
}

/** Waits until `<base>/metadata` answers 200; HAPI answers 503 (or nothing) while it starts. */
export async function untilHapiReady(base: string, timeoutMs: number, deps: WaitDeps): Promise<void> {
  const deadline = deps.now() + timeoutMs;
  let last = '';
  for (;;) {
    let status: string;
    try {
      const res = await deps.fetch(`${base}/metadata`, {
        headers: { Accept: 'application/fhir+json' },
        signal: AbortSignal.timeout(30_000),
      });
      // Read to the end: HAPI logs a broken pipe when a client hangs up on its CapabilityStatement.
      await res.arrayBuffer();
      if (res.status === 200) return;
      status = `HTTP ${res.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      status = cause?.code ?? cause?.message ?? (err as Error).message;
    }
    if (status !== last) deps.log(`prepare-hapi: ${base}/metadata: ${status}, waiting`);
    last = status;
    if (deps.now() >= deadline)
      throw new Error(`HAPI FHIR at ${base} not ready after ${Math.round(timeoutMs / 1000)} s (last: ${status})`);
    await deps.sleep(2_000);
  }
}

export async function prepareHapi(options: PrepareOptions, deps: WaitDeps): Promise<void> {
  const started = deps.now();
  await untilHapiReady(options.base, options.timeoutMs, deps);
  deps.log(`prepare-hapi: HAPI FHIR ready at ${options.base}`);
  const store = (path: string) =>
    new HttpStore({ baseUrl: `${options.base}/${path}`, fetch: deps.fetch, timeoutMs: 120_000 });
  const partitions = options.partitions.map(store);
  const remaining = Math.max(1_000, options.timeoutMs - (deps.now() - started));
  if (options.waitOnly) await untilReferenceIdentifiersSearchable(partitions, remaining);
  else {
    const created = await prepareReferenceIdentifierSearch(store('DEFAULT'), partitions, remaining);
    deps.log(`prepare-hapi: ${created.length} SearchParameter(s) created${created.length ? '' : ' (all present)'}`);
  }
  deps.log(
    `prepare-hapi: partitions ${options.partitions.join(', ')} searchable on every reference-identifier parameter`,
  );
}

if (import.meta.main) {
  let options: PrepareOptions | undefined;
  try {
    options = parsePrepareArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`prepare-hapi: ${err.message}\n${USAGE}`);
    process.exitCode = 2;
  }
  if (options) {
    const deps: WaitDeps = {
      fetch,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: Date.now,
      log: (line) => console.log(line),
    };
    try {
      await prepareHapi(options, deps);
      console.log(`prepare-hapi: ready (${options.partitions.join(', ')})`);
    } catch (err) {
      console.error(
        `prepare-hapi: failed: ${err instanceof OutcomeError ? `(${err.status}) ${err.message}` : (err as Error).message}`,
      );
      process.exitCode = 1;
    }
  }
}
