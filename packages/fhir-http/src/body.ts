import type { Resource } from '@medplum/fhirtypes';
import { badRequest, OutcomeError, payloadTooLarge, unsupportedMediaType } from '@imaging/fhir';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { fhirResponse } from './responses.ts';

/** 1 MiB: far above any order, report or message Bundle the pathway carries. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

export function fhirBodyLimit(maxBytes = DEFAULT_BODY_LIMIT): MiddlewareHandler {
  return bodyLimit({ maxSize: maxBytes, onError: () => fhirResponse(payloadTooLarge(maxBytes), 413) });
}

const JSON_TYPES = ['application/fhir+json', 'application/json'];

/**
 * Reads a FHIR resource from the request body: JSON media type, well-formed JSON, an object with a
 * `resourceType` (and the expected one, when given). Anything else is a 400/415 outcome.
 */
export async function readResource<T extends Resource = Resource>(
  c: Context,
  expectedType?: T['resourceType'],
): Promise<T> {
  const mediaType = (c.req.header('Content-Type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_TYPES.includes(mediaType)) {
    throw new OutcomeError(
      unsupportedMediaType(`Content-Type must be application/fhir+json, not '${mediaType || 'none'}'`),
    );
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new OutcomeError(badRequest(`Malformed JSON: ${(err as Error).message}`));
  }
  return checkResourceShape<T>(body, expectedType);
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
  if (!m) throw new OutcomeError(badRequest(`If-Match must be an ETag such as W/"3", not '${header}'`));
  return m[1];
}
