import type { Bundle, BundleEntry, BundleLink, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import {
  cutShort,
  issue,
  OutcomeError,
  outcomeOf,
  pagingOf,
  PRESENTATION_PARAMETERS,
  presentationProblem,
} from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { entriesIfAny } from './responses.ts';

/** The interactions that read a resource's versions, declared wherever its read is (a write's Location names a version). */
export const VERSION_READS = ['vread', 'history-instance'] as const;

/** What a history interaction was asked (R4 http.html#history), checked by `checkHistoryParams`. */
export interface HistoryParams {
  /** `_count`: at most this many versions on the page; 0 is the total alone, as for a search. */
  count?: number;
  /** `_offset`: how many of the versions asked for come before this page (what a `next` link carries). */
  offset: number;
  /** `_since`, in ns since the epoch: only the versions written (`meta.lastUpdated`) at or after it. */
  since?: bigint;
  /** `_at`, in ns since the epoch: only the version current then, the newest written at or before it. */
  at?: bigint;
}

/** A page of a resource's history: the versions shown, newest first, and how many were asked for in all. */
export interface HistoryPage<T extends Resource = Resource> {
  versions: WithId<T>[];
  /** Every version that `_since` and `_at` let through, on this page or not. */
  total: number;
  /** The `_offset` of the next page, when there is one. */
  nextOffset?: number;
}

/** FHIR `instant`: to the second at least, always with its zone. */
const INSTANT_RE =
  /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;
const INSTANT_TEXT = 'an instant, YYYY-MM-DDThh:mm:ss[.sss] with its zone (Z or ±hh:mm)';

/**
 * An instant in ns since the epoch, or undefined when `value` is not one (a date alone, a time without a zone,
 * 30 February). Nanoseconds, not Date's milliseconds: the embedded store stamps versions to the microsecond, so
 * two versions can share a millisecond. A `+` left unescaped in a query string reads as a space, as it does in
 * `2026-01-05T09:00:00 01:00`.
 */
function instantOf(value: string): bigint | undefined {
  const written = value.replace(/ (\d{2}:\d{2})$/, '+$1');
  const m = INSTANT_RE.exec(written);
  if (!m) return undefined;
  const [, year, month, day, , fraction = ''] = m;
  // The last day of the month: day 0 of the next one.
  if (Number(day) > new Date(Date.UTC(Number(year), Number(month), 0)).getUTCDate()) return undefined;
  const ms = Date.parse(written.replace(/\.\d+/, ''));
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.slice(1).padEnd(9, '0'));
}

/** The parameters R4 lists for history (http.html#history) that are answered here (`_offset`, which a `next` link carries, too). */
const ANSWERED = '_count, _since and _at';

/**
 * A history interaction's parameters, or a 400 naming each bad one (R4 http.html#history): `_count` (at most
 * that many versions, newest first, paged on by a `next` link; 0 for the total alone), `_since` and `_at` (each
 * an instant), with `_offset` for the `next` link, and `_format` and `_pretty` as a search takes them. `_list`
 * and anything else is a 400, never silently ignored. Call it before any store is read.
 */
export function checkHistoryParams(url: URL): HistoryParams {
  const params = url.searchParams;
  const problems: OperationOutcomeIssue[] = [];
  const refuse = (text: string, expression: string, code: OperationOutcomeIssue['code'] = 'not-supported') =>
    problems.push(issue({ code, text, expression }));
  const asked: HistoryParams = { offset: 0 };
  const seen = new Set<string>();
  for (const [key, value] of params) {
    const colon = key.indexOf(':');
    const name = colon < 0 ? key : key.slice(0, colon);
    if (name === '_count' || name === '_offset') continue; // pagingOf's, below
    if (PRESENTATION_PARAMETERS.has(key)) {
      const problem = presentationProblem(key, undefined, value);
      if (problem) refuse(problem, key);
    } else if (name === '_since' || name === '_at') {
      if (colon >= 0) refuse(`${name} takes no modifier`, key);
      else if (seen.has(name)) refuse(`${name} is given once`, name, 'value');
      else {
        seen.add(name);
        const instant = instantOf(value.trim());
        if (instant === undefined) refuse(`${name}=${cutShort(value)} is not ${INSTANT_TEXT}`, name, 'value');
        else asked[name === '_since' ? 'since' : 'at'] = instant;
      }
    } else if (name === '_list') {
      refuse(`History takes no _list here: it answers ${ANSWERED}`, key);
    } else {
      refuse(`History takes no '${cutShort(key)}' here: it answers ${ANSWERED}`, key || '(empty)');
    }
  }
  const { count, offset, problems: paging } = pagingOf(params);
  problems.push(...paging);
  if (problems.length) throw new OutcomeError(outcomeOf('bad-request', problems));
  if (count !== undefined) asked.count = count;
  if (offset !== undefined) asked.offset = offset;
  return asked;
}

/** When a version was written, in ns since the epoch; undefined when it does not say. */
function writtenAt(version: Resource): bigint | undefined {
  const at = version.meta?.lastUpdated;
  return at === undefined ? undefined : instantOf(at);
}

/**
 * The page of `versions` (every version the caller may see, newest first, as the stores give them) that
 * `asked` selects: those written at or after `_since`; with `_at`, only the newest written at or before it
 * (none if none was); then `_offset` and `_count` of those. A version that does not say when it was written
 * matches neither `_since` nor `_at`.
 */
export function historyPage<T extends Resource>(
  versions: readonly WithId<T>[],
  asked: HistoryParams = { offset: 0 },
): HistoryPage<T> {
  const { since, at, count, offset } = asked;
  let kept = [...versions];
  if (since !== undefined)
    kept = kept.filter((v) => {
      const written = writtenAt(v);
      return written !== undefined && written >= since;
    });
  if (at !== undefined) {
    const current = kept.find((v) => {
      const written = writtenAt(v);
      return written !== undefined && written <= at;
    });
    kept = current ? [current] : [];
  }
  const end = count === undefined ? kept.length : offset + count;
  // `_count=0` is the total alone, as for a search: no page to go on to.
  const more = count !== 0 && end < kept.length;
  return { versions: kept.slice(offset, end), total: kept.length, ...(more ? { nextOffset: end } : {}) };
}

/**
 * A history Bundle (R4 http.html#history) of one resource's versions, newest first: each entry carries its
 * ETag and time, and the request R4 requires there. The stores keep no method, so a first version is shown as
 * a create (`POST`) and later ones as updates (`PUT`), even where a client-assigned id was first written by a
 * `PUT`. The page is what `historyPage` chose; `total` is every version asked
 * for, and a `next` link (the same query, at the next `_offset`) pages on. `asked` is the request, for the links.
 */
export function historyBundle(
  { versions, total, nextOffset }: HistoryPage,
  baseUrl: string,
  asked: { type: string; id: string; url: URL },
): Bundle {
  const entry = (resource: WithId<Resource>): BundleEntry => {
    const version = resource.meta?.versionId ?? '1';
    const path = `${resource.resourceType}/${resource.id}`;
    const first = version === '1';
    return {
      fullUrl: `${baseUrl}/${path}`,
      resource,
      request: { method: first ? 'POST' : 'PUT', url: first ? resource.resourceType : path },
      response: {
        status: first ? '201 Created' : '200 OK',
        etag: `W/"${version}"`,
        ...(resource.meta?.lastUpdated ? { lastModified: resource.meta.lastUpdated } : {}),
      },
    };
  };
  const history = `${baseUrl}/${asked.type}/${asked.id}/_history`;
  const link: BundleLink[] = [{ relation: 'self', url: `${history}${asked.url.search}` }];
  if (nextOffset !== undefined) {
    // The versions are read afresh for each page: one written meanwhile moves the rest on by one.
    const next = new URLSearchParams(asked.url.searchParams);
    next.set('_offset', String(nextOffset));
    link.push({ relation: 'next', url: `${history}?${next}` });
  }
  // None (`_at` before the first version, `_count=0`) is no entry element: FHIR JSON has no empty arrays.
  return { resourceType: 'Bundle', type: 'history', total, link, ...entriesIfAny(versions.map(entry)) };
}
