import { badRequest, cutShort, notAcceptable, presentationProblem } from '@imaging/fhir';
import type { MiddlewareHandler } from 'hono';
import { FHIR_JSON_MEDIA_TYPES, fhirResponse } from './responses.ts';

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

/** One `Accept` entry, e.g. `application/fhir+json;q=0.9`; a q that is not a number counts as 0. */
function mediaRangeOf(entry: string): MediaRange | undefined {
  const [range = '', ...params] = entry.split(';').map((p) => p.trim().toLowerCase());
  const [type, subtype] = range.split('/');
  if (!type || !subtype) return undefined;
  const qParam = params.find((p) => p.startsWith('q='));
  const q = qParam === undefined ? 1 : Number(qParam.slice(2));
  return { type, subtype, q: Number.isFinite(q) ? q : 0 };
}

/** The q of the range that names `mediaType` most specifically (exactly, then `type/*`, then `*\/*`); 0 if none does. */
function qualityOf(ranges: readonly MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  const exact = ranges.find((r) => r.type === type && r.subtype === subtype);
  const byType = ranges.find((r) => r.type === type && r.subtype === '*');
  const any = ranges.find((r) => r.type === '*' && r.subtype === '*');
  return (exact ?? byType ?? any)?.q ?? 0;
}

/**
 * Whether an `Accept` header admits FHIR JSON (RFC 9110 §12.5.1): no header, or a range naming it with a
 * q above 0, the most specific range deciding (`*\/*, application/json;q=0` refuses plain JSON).
 */
export function acceptsFhirJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  const ranges = accept.split(',').flatMap((entry) => mediaRangeOf(entry) ?? []);
  return FHIR_JSON_MEDIA_TYPES.some((mediaType) => qualityOf(ranges, mediaType) > 0);
}

/**
 * Refuses, before anything is read or written, a request for a format other than JSON, rather than
 * answering it in a format it said it cannot read: a `_format` other than JSON is a 400 at `_format` (the
 * parameter overrides Accept, FHIR R4 http.html#mime-type), and without one an `Accept` that admits no JSON
 * (an XML-only client, say) is a 406. `ownFormats` are paths that negotiate formats of their own (a report
 * offered as CSV or HTML too).
 */
export function requireJsonAcceptable(ownFormats: readonly string[] = []): MiddlewareHandler {
  const own = new Set(ownFormats);
  return async (c, next) => {
    if (own.has(c.req.path)) return next();
    const format = c.req.query('_format');
    if (format !== undefined) {
      const problem = presentationProblem('_format', undefined, format);
      return problem ? fhirResponse(badRequest(problem, '_format'), 400) : next();
    }
    const accept = c.req.header('Accept');
    if (acceptsFhirJson(accept)) return next();
    const text = `This server answers in FHIR JSON only (application/fhir+json); Accept: '${cutShort(accept ?? '', 120)}' admits neither it nor application/json`;
    return fhirResponse(notAcceptable(text), 406);
  };
}
