import {
  badRequest,
  forbidden,
  issue,
  methodNotAllowed,
  OutcomeError,
  outcomeOf,
  toOutcomeError,
  unauthorized,
} from '@imaging/fhir';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '@imaging/fhir';
import { fhirResponse } from './responses.ts';

/**
 * The one error handler: OutcomeErrors render as their outcome (their `detail` is only logged), Hono's
 * HTTPExceptions keep their status, and anything else is a bug: logged with its stack, answered with a
 * bare 500 OperationOutcome.
 */
export function fhirErrorHandler(logger: Logger): ErrorHandler {
  return (err: unknown, c: Context) => {
    if (clientClosed(err, c)) {
      logger.info('client closed the connection', {
        method: c.req.method,
        path: c.req.path,
        requestId: c.get('requestId' as never),
        correlationId: c.get('correlationId' as never),
      });
      return fhirResponse(badRequest('The client closed the connection before its request was read'), 400);
    }
    const outcomeError = err instanceof HTTPException ? fromHttpException(err) : toOutcomeError(err);
    if (outcomeError.status >= 500) {
      logger.error('request failed', {
        method: c.req.method,
        path: c.req.path,
        status: outcomeError.status,
        requestId: c.get('requestId' as never),
        correlationId: c.get('correlationId' as never),
        error: err instanceof Error ? err.stack : String(err),
      });
    } else if (outcomeError.detail) {
      // A refusal that stands for another server's answer: its own words are for the log, not the client.
      logger.info('request refused', {
        method: c.req.method,
        path: c.req.path,
        status: outcomeError.status,
        requestId: c.get('requestId' as never),
        detail: outcomeError.detail,
      });
    }
    return fhirResponse(outcomeError.outcome, outcomeError.status);
  };
}

/**
 * The client hung up while its request was being read. @hono/node-server then aborts the request's
 * signal with the body stream's error as the reason, and the read rejects with that same error (Node's
 * `aborted`, ECONNRESET). Any other error, even on an aborted request, is still treated as a failure.
 */
function clientClosed(err: unknown, c: Context): boolean {
  const signal = c.req.raw.signal;
  if (!signal?.aborted || !(err instanceof Error)) return false;
  const reason = String(signal.reason);
  return (err as { code?: unknown }).code === 'ECONNRESET' || String(err) === reason || err.message === reason;
}

function fromHttpException(err: HTTPException): OutcomeError {
  const text = err.message || `HTTP ${err.status}`;
  if (err.status === 400) return new OutcomeError(badRequest(text));
  if (err.status === 401) return new OutcomeError(unauthorized(text));
  if (err.status === 403) return new OutcomeError(forbidden(text));
  if (err.status >= 500) return toOutcomeError(err);
  return new OutcomeError(outcomeOf('http', [issue({ text, code: 'processing' })]), err.status);
}

export const fhirNotFound: NotFoundHandler = (c) =>
  fhirResponse(
    outcomeOf('not-found', [issue({ text: `Nothing is served at ${c.req.method} ${c.req.path}`, code: 'not-found' })]),
    404,
  );

/**
 * For `/fhir/:type` and `/fhir/:type/:id` after the real routes: a method this server does not offer on
 * a type it serves is a 405; a type it does not serve at all is a 404.
 */
export function unsupportedInteraction(servedTypes: readonly string[]): (c: Context) => Response {
  return (c) => {
    const type = c.req.param('type') ?? '';
    if (!servedTypes.includes(type)) {
      return fhirResponse(
        outcomeOf('not-found', [
          issue({ text: `This server does not serve ${type} resources`, code: 'not-supported' }),
        ]),
        404,
      );
    }
    return fhirResponse(methodNotAllowed(`${c.req.method} is not supported on ${c.req.path}`), 405, {
      Allow: 'GET, POST, PUT',
    });
  };
}

/** The methods that would write an AuditEvent: none is allowed through the API. */
export const AUDIT_EVENT_WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * An AuditEvent is written by the server itself, beside what it records, and never changes or goes away:
 * a client's create, update or delete is a 405 (for every client, whatever its scopes), with nothing written.
 * One AuditEvent may be read (audit-reads.ts), so its URL allows GET; the type's URL allows nothing.
 */
export function refuseAuditEventWrite(c: Context): Response {
  return fhirResponse(
    methodNotAllowed(
      `${c.req.method} ${c.req.path}: AuditEvents are recorded by this server only, and are never changed or deleted`,
    ),
    405,
    { Allow: /\/AuditEvent\/[^/]+/.test(c.req.path) ? 'GET' : '' },
  );
}
