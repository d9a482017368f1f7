import { IncomingMessage } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest, cutShort, OutcomeError, payloadTooLarge, unsupportedMediaType } from '@imaging/fhir';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { FHIR_JSON_MEDIA_TYPES, fhirResponse } from './responses.ts';

/** 1 MiB: far above any order, report or message Bundle the pathway carries. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Refuses a body over `maxBytes` with 413, as Hono's `bodyLimit` does: by its Content-Length when it
 * has one (and no Transfer-Encoding), else by counting what it reads. Under @hono/node-server the
 * first case is decided here from the headers alone: `bodyLimit` asks for `c.req.raw.body` first,
 * which makes node-server build a full `Request` with a web stream over the socket, and the body is
 * then read through that stream, where otherwise it is read from the socket directly (a few per cent
 * of a service's CPU under load). There a GET, HEAD or TRACE has no body, as `bodyLimit` would find.
 */
export function fhirBodyLimit(maxBytes = DEFAULT_BODY_LIMIT): MiddlewareHandler {
  const tooLarge = () => fhirResponse(payloadTooLarge(maxBytes), 413);
  const counted = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return async function fhirBodyLimit(c, next) {
    if (!servedByNode(c)) return counted(c, next);
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'TRACE') return next();
    const length = c.req.header('Content-Length');
    if (length === undefined || c.req.header('Transfer-Encoding') !== undefined) return counted(c, next);
    return Number.parseInt(length || '0', 10) > maxBytes ? tooLarge() : next();
  };
}

/** Whether the request came through @hono/node-server, whose environment carries Node's request. */
function servedByNode(c: Context): boolean {
  const env = c.env as { incoming?: unknown } | undefined;
  return typeof env === 'object' && env !== null && env.incoming instanceof IncomingMessage;
}

/**
 * How deeply a JSON body may nest objects and arrays. A Bundle of resources with contained resources
 * and nested extensions is rarely deeper than 30; a much deeper body is an attack on whatever walks it
 * recursively afterwards (validation, JSON.stringify, reference walking), which would run out of stack.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses a JSON body, refusing (400) malformed JSON and JSON nested deeper than `maxDepth`. The depth
 * is measured on the text before parsing, by a loop that cannot itself run out of stack.
 */
export function parseJsonBody(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDeeperThan(text, maxDepth)) throw new OutcomeError(badRequest(`JSON nested deeper than ${maxDepth} levels`));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new OutcomeError(badRequest(`Malformed JSON: ${(err as Error).message}`));
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether JSON text nests objects and arrays more than `maxDepth` deep, counting brackets outside
 * strings. Exact for well-formed JSON; for malformed text the answer does not matter, as parsing fails.
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      // Skip the string: brackets inside it do not nest.
      for (i++; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === BACKSLASH) i++;
        else if (inner === QUOTE) break;
      }
    } else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Reads a FHIR resource from the request body: JSON media type, well-formed JSON no deeper than
 * MAX_JSON_DEPTH, an object with a `resourceType` (and the expected one, when given). Anything else is
 * a 400/415 outcome. The body's size is bounded before this, by `fhirBodyLimit`.
 */
export async function readResource<T extends Resource = Resource>(
  c: Context,
  expectedType?: T['resourceType'],
): Promise<T> {
  refuseEncodedBody(c);
  const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!FHIR_JSON_MEDIA_TYPES.includes(mediaType)) {
    throw new OutcomeError(
      unsupportedMediaType(`Content-Type must be application/fhir+json, not '${mediaType || 'none'}'`),
    );
  }
  return checkResourceShape<T>(parseJsonBody(await c.req.text()), expectedType);
}

/**
 * A 415 for a body sent compressed (`Content-Encoding: gzip`…): bodies are read as they come, and a
 * compressed one would otherwise be reported as malformed JSON, which it is not (RFC 9110 §15.5.16).
 */
export function refuseEncodedBody(c: Context): void {
  const encoding = (c.req.header('Content-Encoding') ?? '').trim().toLowerCase();
  if (encoding && encoding !== 'identity')
    throw new OutcomeError(
      unsupportedMediaType(`Content-Encoding '${cutShort(encoding)}' is not taken: send the body uncompressed`),
    );
}

export function checkResourceShape<T extends Resource>(body: unknown, expectedType?: T['resourceType']): T {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new OutcomeError(badRequest('The body must be a FHIR resource (a JSON object)'));
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (typeof resourceType !== 'string')
    throw new OutcomeError(badRequest('The body has no resourceType', 'resourceType'));
  if (expectedType && resourceType !== expectedType) {
    throw new OutcomeError(badRequest(`Expected a ${expectedType}, not a ${resourceType}`, 'resourceType'));
  }
  return body as T;
}

/** The versionId in an `If-Match` header (`W/"3"`, `"3"` or `3`), or undefined when absent. */
export function ifMatchVersion(c: Context): string | undefined {
  const header = c.req.header('If-Match');
  if (!header) return undefined;
  const m = /^(?:W\/)?"?([A-Za-z0-9\-.]{1,64})"?$/.exec(header.trim());
  if (!m)
    throw new OutcomeError(badRequest(`If-Match must be an ETag such as W/"3", not '${header}'`, 'http.If-Match'));
  return m[1];
}
