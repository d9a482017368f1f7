import type { Task } from '@medplum/fhirtypes';
import { MAX_COUNT, OutcomeError } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { checkHistoryParams, historyBundle, historyPage } from './history.ts';

const BASE = 'http://gw.example/fhir';
const at = (path: string) => new URL(`${BASE}/Task/t1/_history${path}`);

/** Five versions of Task/t1, newest first (as the stores give them), written a minute apart from 09:00. */
const versions: WithId<Task>[] = [5, 4, 3, 2, 1].map((v) => ({
  resourceType: 'Task',
  id: 't1',
  status: 'requested',
  intent: 'order',
  meta: { versionId: String(v), lastUpdated: `2026-03-05T09:0${v - 1}:00.000Z` },
}));

/** The versionIds of the history Bundle that `query` asks for, with its total and links. */
function history(query: string) {
  const url = at(query);
  const bundle = historyBundle(historyPage(versions, checkHistoryParams(url)), BASE, { type: 'Task', id: 't1', url });
  return {
    shown: (bundle.entry ?? []).map((e) => e.resource?.meta?.versionId),
    total: bundle.total,
    links: Object.fromEntries((bundle.link ?? []).map((l) => [l.relation, l.url.slice(`${BASE}/Task/t1`.length)])),
    bundle,
  };
}

/** The expressions of the 400 `query` is answered with. */
function refusal(query: string): (string | undefined)[] {
  try {
    checkHistoryParams(at(query));
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    expect(err.status).toBe(400);
    return err.outcome.issue.map((i) => i.expression?.[0]);
  }
  throw new Error(`expected ${query} to be refused`);
}

describe('history parameters (R4 http.html#history)', () => {
  it('without any, is every version, newest first, in one Bundle', () => {
    const { shown, total, links, bundle } = history('');
    expect(shown).toEqual(['5', '4', '3', '2', '1']);
    expect(total).toBe(5);
    expect(links).toEqual({ self: '/_history' });
    expect(bundle.type).toBe('history');
  });

  it('_count: at most that many versions, newest first; total stays every version, and next pages on to the end', () => {
    const first = history('?_count=2');
    expect([first.shown, first.total, first.links]).toEqual([
      ['5', '4'],
      5,
      { self: '/_history?_count=2', next: '/_history?_count=2&_offset=2' },
    ]);
    const seen = [...first.shown];
    let next: string | undefined = first.links.next;
    while (next) {
      const page = history(next.slice('/_history'.length));
      expect(page.total).toBe(5);
      seen.push(...page.shown);
      next = page.links.next;
    }
    expect(seen).toEqual(['5', '4', '3', '2', '1']);
    expect(history('?_count=5').links.next).toBeUndefined();
    expect(history(`?_count=${MAX_COUNT}`).shown).toHaveLength(5);
  });

  it('_count=0 is the total alone, as for a search: no entries and no next link', () => {
    const { shown, total, links, bundle } = history('?_count=0');
    expect([shown, total, links]).toEqual([[], 5, { self: '/_history?_count=0' }]);
    expect(bundle).not.toHaveProperty('entry');
  });

  it('_since: only the versions written at or after the instant, in any zone', () => {
    expect(history('?_since=2026-03-05T09:02:00Z').shown).toEqual(['5', '4', '3']);
    expect(history('?_since=2026-03-05T09:02:00.001Z').shown).toEqual(['5', '4']);
    expect(history('?_since=2026-03-05T10:02:30%2B01:00').shown).toEqual(['5', '4']);
    // A + left unescaped in the query reads as a space.
    expect(history('?_since=2026-03-05T10:02:30+01:00').shown).toEqual(['5', '4']);
    expect(history('?_since=2026-03-05T09:03:59.9999999Z').shown).toEqual(['5']);
    expect(history('?_since=2026-03-05T09:04:00.0000001Z').shown).toEqual([]);
    const later = history('?_since=2026-03-05T09:05:00Z');
    expect([later.shown, later.total]).toEqual([[], 0]);
    const paged = history('?_since=2026-03-05T09:01:00Z&_count=3');
    expect([paged.shown, paged.total, paged.links.next]).toEqual([
      ['5', '4', '3'],
      4,
      '/_history?_since=2026-03-05T09%3A01%3A00Z&_count=3&_offset=3',
    ]);
  });

  it('_at: the version current at the instant, the newest written at or before it; before the first, none', () => {
    expect(history('?_at=2026-03-05T09:02:00Z').shown).toEqual(['3']);
    expect(history('?_at=2026-03-05T09:02:59.999Z').shown).toEqual(['3']);
    expect(history('?_at=2030-01-01T00:00:00Z').shown).toEqual(['5']);
    const before = history('?_at=2026-03-05T08:59:59Z');
    expect([before.shown, before.total, before.bundle.entry]).toEqual([[], 0, undefined]);
    // With _since as well: the version current then, if it was written since.
    expect(history('?_at=2026-03-05T09:02:30Z&_since=2026-03-05T09:02:00Z').shown).toEqual(['3']);
    expect(history('?_at=2026-03-05T09:02:30Z&_since=2026-03-05T09:03:00Z').shown).toEqual([]);
  });

  it('tells apart versions written within one millisecond, as the embedded store stamps them (to the microsecond)', () => {
    const burst = ['.001999', '.001500', '.001000'].map((fraction, i) => ({
      ...versions[0],
      meta: { versionId: String(3 - i), lastUpdated: `2026-03-05T10:00:00${fraction}Z` },
    })) as WithId<Task>[];
    const asked = (query: string) =>
      historyPage(burst, checkHistoryParams(at(query))).versions.map((v) => v.meta?.versionId);
    expect(asked('?_since=2026-03-05T10:00:00.0015Z')).toEqual(['3', '2']);
    expect(asked('?_since=2026-03-05T10:00:00.001501Z')).toEqual(['3']);
    expect(asked('?_at=2026-03-05T10:00:00.0019Z')).toEqual(['2']);
    expect(asked('?_at=2026-03-05T10:00:00.000999Z')).toEqual([]);
  });

  it('a version that does not say when it was written matches neither _since nor _at', () => {
    const undated = [{ ...versions[0], meta: { versionId: '6' } } as WithId<Task>, ...versions];
    const asked = (query: string) =>
      historyPage(undated, checkHistoryParams(at(query))).versions.map((v) => v.meta?.versionId);
    expect(asked('?_since=2026-03-05T09:04:00Z')).toEqual(['5']);
    expect(asked('?_at=2030-01-01T00:00:00Z')).toEqual(['5']);
    expect(asked('')).toHaveLength(6);
  });

  it('takes _format=json and _pretty as a search does', () => {
    expect(history('?_format=json&_pretty=true&_count=1').shown).toEqual(['5']);
  });

  it.each([
    ['a date, not an instant', '?_since=2026-03-05', ['_since']],
    ['a time without its zone', '?_since=2026-03-05T09:00:00', ['_since']],
    ['a day the month does not have', '?_since=2026-02-30T09:00:00Z', ['_since']],
    ['an hour past 23', '?_at=2026-03-05T24:00:00Z', ['_at']],
    ['an empty _since', '?_since=', ['_since']],
    ['a year alone', '?_at=2026', ['_at']],
    ['_since twice', '?_since=2026-03-05T09:00:00Z&_since=2026-03-05T09:01:00Z', ['_since']],
    ['a modifier on _at', '?_at:missing=2026-03-05T09:00:00Z', ['_at:missing']],
    ['a negative _count', '?_count=-1', ['_count']],
    ['_count past the bound', `?_count=${MAX_COUNT + 1}`, ['_count']],
    ['a _count that is no number', '?_count=ten', ['_count']],
    ['_count twice', '?_count=1&_count=2', ['_count']],
    ['a bad _offset', '?_offset=x', ['_offset']],
    ['_list, not answered here', '?_list=Task-watch', ['_list']],
    ['a search parameter', '?status=requested', ['status']],
    ['a format other than JSON', '?_format=xml', ['_format']],
    ['each problem at once', '?_at=2026&_count=0x1&_list=x', ['_at', '_list', '_count']],
  ])('refuses %s with a 400 naming it', (_name, query, expressions) => {
    expect(refusal(query)).toEqual(expressions);
  });

  it('reads the parameters it takes as numbers, and instants as ns since the epoch', () => {
    expect(checkHistoryParams(at(''))).toEqual({ offset: 0 });
    expect(
      checkHistoryParams(at('?_count=10&_offset=20&_since=2026-03-05T09:00:00Z&_at=2026-03-05T10:00:00%2B01:00')),
    ).toEqual({
      count: 10,
      offset: 20,
      since: BigInt(Date.UTC(2026, 2, 5, 9)) * 1_000_000n,
      at: BigInt(Date.UTC(2026, 2, 5, 9)) * 1_000_000n,
    });
  });
});
