import { Hono } from 'hono';
import type { Env } from 'hono';
import { requireJsonAcceptable } from './accept.ts';
import { fhirBodyLimit } from './body.ts';
import { fhirErrorHandler, fhirNotFound } from './errors.ts';
import type { Logger } from '@imaging/fhir';
import { requestContext } from './request-context.ts';

export interface FhirAppOptions {
  logger: Logger;
  bodyLimitBytes?: number;
  /** FHIR paths that negotiate formats of their own (e.g. a report also served as CSV); the rest answer JSON only. */
  ownFormats?: readonly string[];
}

/**
 * A Hono app with the FHIR plumbing every service shares: request/correlation ids and access log,
 * a body size limit, a 406 for a client that accepts no JSON, one error handler that always answers
 * with an OperationOutcome, and a FHIR 404.
 */
export function createFhirApp<E extends Env>(options: FhirAppOptions): Hono<E> {
  // Not strict: `/fhir/metadata/` and `/fhir/Task/` are the same resources as without the slash, as clients expect.
  const app = new Hono<E>({ strict: false });
  app.use('*', requestContext(options.logger) as never);
  app.use('*', fhirBodyLimit(options.bodyLimitBytes));
  app.use('/fhir/*', requireJsonAcceptable(options.ownFormats));
  app.onError(fhirErrorHandler(options.logger));
  app.notFound(fhirNotFound);
  return app;
}
