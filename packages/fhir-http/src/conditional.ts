import { badRequest, OutcomeError, PRESENTATION_PARAMETERS, RESULT_PARAMETERS } from '@imaging/fhir';
import type { Context } from 'hono';

/** Parameters that shape what a search returns: in a condition they would change how many match. */
const SHAPING = new Set([
  ...RESULT_PARAMETERS,
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_contained',
  '_containedType',
]);

/**
 * The search of a create's `If-None-Exist` header, or undefined when there is none. Taken in each form
 * clients send: the spec's relative `identifier=sys|val` (or `?…`, or `Patient?…`), and the absolute URL
 * HAPI's client sends for `create().conditionalByUrl(…)` (`http://host/fhir/Patient?_format=json&identifier=…`),
 * whose base must be one of `bases` (this server's). Presentation parameters are dropped. A 400 when
 * the header names another server or another type, asks for a result shape (`_count`, `_sort`,
 * `_include`…), or has no criterion at all.
 */
export function ifNoneExistSearch(
  header: string | undefined,
  type: string,
  bases: readonly string[],
): URLSearchParams | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const query = /^https?:\/\//i.test(value) ? absoluteQuery(value, type, bases) : relativeQuery(value, type);
  const params = new URLSearchParams(query);
  for (const name of PRESENTATION_PARAMETERS) params.delete(name); // they shape a response, never what matches
  for (const name of params.keys()) {
    if (SHAPING.has(name)) throw refused(`${name} shapes a result; If-None-Exist takes search criteria only`);
  }
  if (params.size === 0)
    throw refused('If-None-Exist needs at least one search criterion, e.g. identifier=system|value');
  return params;
}

/** The bases a client may name in an absolute `If-None-Exist`: the server's public one and the one it was called at. */
export function conditionalBases(c: Context, publicBase: string): string[] {
  return [publicBase, `${new URL(c.req.url).origin}/fhir`];
}

function absoluteQuery(value: string, type: string, bases: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refused(`'${value}' is not a URL`);
  }
  const onThisServer = bases.some((base) => {
    const b = new URL(base);
    return b.origin === url.origin && url.pathname.replace(/\/+$/, '') === `${b.pathname.replace(/\/+$/, '')}/${type}`;
  });
  if (!onThisServer) throw refused(`If-None-Exist must be a search of ${type} on this server (${bases[0]}/${type})`);
  return url.search;
}

function relativeQuery(value: string, type: string): string {
  // `Patient?identifier=…` or `?identifier=…`; a `?` after an `=` is part of a value.
  const m = /^\/?([A-Za-z]*)\?(.*)$/s.exec(value);
  if (!m) return value;
  if (m[1] && m[1] !== type) throw refused(`If-None-Exist names ${m[1]}, not ${type}`);
  return m[2] as string;
}

function refused(text: string): OutcomeError {
  // FHIR's convention for an HTTP header in an issue: `http.` + its name.
  return new OutcomeError(badRequest(text, 'http.If-None-Exist'));
}
