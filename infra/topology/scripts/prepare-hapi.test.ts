import { customSearchParameters } from '@imaging/fhir';
import { describe, expect, it, vi } from 'vitest';
import type { WaitDeps } from './prepare-hapi.ts';
import { parsePrepareArgs, prepareHapi, untilHapiReady, UsageError } from './prepare-hapi.ts';

describe('parsePrepareArgs', () => {
  it('reads the base URL, the partitions, --wait-only and --timeout', () => {
    expect(parsePrepareArgs(['--partitions', 'hub, north', 'http://hapi:8080/fhir/'])).toEqual({
      base: 'http://hapi:8080/fhir',
      partitions: ['hub', 'north'],
      waitOnly: false,
      timeoutMs: 900_000,
    });
    expect(
      parsePrepareArgs(['--wait-only', '--timeout', '60', '--partitions', 'south', 'https://fhir.example.org/fhir']),
    ).toMatchObject({
      waitOnly: true,
      timeoutMs: 60_000,
      partitions: ['south'],
    });
  });

  it.each([
    [[], 'expected exactly one HAPI FHIR base URL'],
    [['--partitions', 'hub', 'http://a/fhir', 'http://b/fhir'], 'expected exactly one HAPI FHIR base URL'],
    [['--partitions', 'hub', 'hapi:8080/fhir'], 'not an http(s) URL: hapi:8080/fhir'],
    [['--partitions', 'hub', 'not a url'], 'not a URL: not a url'],
    [['--partitions', 'hub', 'http://hapi/fhir?x=1'], 'the base URL takes no query or fragment: http://hapi/fhir?x=1'],
    [['http://hapi/fhir'], '--partitions is required: the partitions the services use, e.g. hub,north'],
    [['--partitions', 'hub,DEFAULT,no/slash', 'http://hapi/fhir'], 'not a service partition: DEFAULT, no/slash'],
    [
      ['--timeout', '0', '--partitions', 'hub', 'http://hapi/fhir'],
      "--timeout must be whole seconds between 1 and 86400, not '0'",
    ],
    [
      ['--timeout', '1.5', '--partitions', 'hub', 'http://hapi/fhir'],
      "--timeout must be whole seconds between 1 and 86400, not '1.5'",
    ],
    [['--partition', 'hub', 'http://hapi/fhir'], "Unknown option '--partition'"],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parsePrepareArgs(argv)).toThrow(UsageError);
    expect(() => parsePrepareArgs(argv)).toThrow(message);
  });
});

/** A clock that only moves when the code under test sleeps. */
function fakeDeps(
  fetchFn: (url: string, init?: RequestInit) => Promise<Response>,
): WaitDeps & { slept: number[]; lines: string[] } {
  let now = 0;
  const slept: number[] = [];
  const lines: string[] = [];
  return {
    fetch: ((input: string | URL | Request, init?: RequestInit) => fetchFn(String(input), init)) as typeof fetch,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    now: () => now,
    log: (line) => lines.push(line),
    slept,
    lines,
  };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/fhir+json' } });
const outcome = (text: string) => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code: 'processing', diagnostics: text }],
});

describe('untilHapiReady', () => {
  it('waits through refused connections and 503s until /metadata answers 200, logging each new state once', async () => {
    const answers: (number | 'refused')[] = ['refused', 'refused', 503, 503, 200];
    const deps = fakeDeps(async (url) => {
      expect(url).toBe('http://hapi:8080/fhir/metadata');
      const next = answers.shift();
      if (next === 'refused') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
      return json(next as number, {});
    });
    await untilHapiReady('http://hapi:8080/fhir', 60_000, deps);
    expect(answers).toEqual([]);
    expect(deps.slept).toEqual([2000, 2000, 2000, 2000]);
    expect(deps.lines).toEqual([
      'prepare-hapi: http://hapi:8080/fhir/metadata: ECONNREFUSED, waiting',
      'prepare-hapi: http://hapi:8080/fhir/metadata: HTTP 503, waiting',
    ]);
  });

  it('gives up after the timeout, naming the last answer', async () => {
    const deps = fakeDeps(async () => json(503, {}));
    await expect(untilHapiReady('http://hapi:8080/fhir', 10_000, deps)).rejects.toThrow(
      'HAPI FHIR at http://hapi:8080/fhir not ready after 10 s (last: HTTP 503)',
    );
    expect(deps.slept).toHaveLength(5);
  });
});

/**
 * A stand-in for HAPI's answers to what prepareHapi asks: metadata, conditional creates of
 * SearchParameters in DEFAULT, and searches on the new parameters, refused (400, as HAPI does)
 * until the SearchParameters exist and one search has been refused.
 */
function fakeHapi() {
  const searchParameters = new Map<string, { code: string }>();
  const searched: string[] = [];
  let refusedOnce = false;
  const handler = async (url: string, init?: RequestInit): Promise<Response> => {
    const u = new URL(url);
    const method = init?.method ?? 'GET';
    if (u.pathname === '/fhir/metadata') return json(200, { resourceType: 'CapabilityStatement' });
    if (method === 'POST' && u.pathname === '/fhir/DEFAULT/SearchParameter') {
      const sp = JSON.parse(String(init?.body)) as { url: string; code: string };
      const ifNoneExist = new URLSearchParams(new Headers(init?.headers).get('If-None-Exist') ?? '');
      expect(ifNoneExist.get('url')).toBe(sp.url);
      const existing = searchParameters.has(sp.url);
      searchParameters.set(sp.url, sp);
      return json(existing ? 200 : 201, {
        ...sp,
        id: `sp-${searchParameters.size}`,
        meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00Z' },
      });
    }
    const m = /^\/fhir\/([^/]+)\/([A-Za-z]+)$/.exec(u.pathname);
    if (method === 'GET' && m) {
      const code = [...u.searchParams.keys()].find((k) => k !== '_count') ?? '';
      const known = [...searchParameters.values()].some((sp) => sp.code === code);
      if (!known || !refusedOnce) {
        refusedOnce = known;
        return json(400, outcome(`Unknown search parameter "${code}"`));
      }
      searched.push(`${m[1]}/${m[2]}?${code}`);
      return json(200, { resourceType: 'Bundle', type: 'searchset', total: 0, link: [], entry: [] });
    }
    return json(404, outcome(`unexpected ${method} ${url}`));
  };
  return { handler, searchParameters, searched };
}

/** untilSearchable (@imaging/fhir) retries once a second on the real clock: run it on a fake one. */
async function onFakeClock<T>(run: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  try {
    let settled = false;
    const promise = run();
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    while (!settled) await vi.advanceTimersByTimeAsync(1_000);
    return await promise;
  } finally {
    vi.useRealTimers();
  }
}

const ALL_PARAMS = customSearchParameters().flatMap((sp) => sp.base.map((type) => `${type}?${sp.code}`));

describe('prepareHapi', () => {
  it('creates the SearchParameters in DEFAULT, then waits until each partition searches on every one', async () => {
    const hapi = fakeHapi();
    const deps = fakeDeps(hapi.handler);
    await onFakeClock(() =>
      prepareHapi(
        { base: 'http://hapi:8080/fhir', partitions: ['hub', 'north'], waitOnly: false, timeoutMs: 60_000 },
        deps,
      ),
    );
    expect(hapi.searchParameters.size).toBe(ALL_PARAMS.length);
    expect(hapi.searched).toEqual([...ALL_PARAMS.map((p) => `hub/${p}`), ...ALL_PARAMS.map((p) => `north/${p}`)]);
    expect(deps.lines).toContain(`prepare-hapi: ${ALL_PARAMS.length} SearchParameter(s) created`);
    expect(deps.lines).toContain(
      'prepare-hapi: partitions hub, north searchable on every reference-identifier parameter',
    );
  });

  it('creates nothing on a second run', async () => {
    const hapi = fakeHapi();
    const options = { base: 'http://hapi:8080/fhir', partitions: ['hub'], waitOnly: false, timeoutMs: 60_000 };
    await onFakeClock(() => prepareHapi(options, fakeDeps(hapi.handler)));
    const again = fakeDeps(hapi.handler);
    await onFakeClock(() => prepareHapi(options, again));
    expect(again.lines).toContain('prepare-hapi: 0 SearchParameter(s) created (all present)');
    expect(hapi.searchParameters.size).toBe(ALL_PARAMS.length);
  });

  it('with --wait-only creates nothing, and fails while the SearchParameters are missing', async () => {
    const hapi = fakeHapi();
    const deps = fakeDeps(hapi.handler);
    await expect(
      onFakeClock(() =>
        prepareHapi({ base: 'http://hapi:8080/fhir', partitions: ['hub'], waitOnly: true, timeoutMs: 1_000 }, deps),
      ),
    ).rejects.toMatchObject({
      status: 400,
    });
    expect(hapi.searchParameters.size).toBe(0);
  });
});
