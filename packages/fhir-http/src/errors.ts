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
import type { Context, Env, ErrorHandler, Hono, MiddlewareHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '@imaging/fhir';
import type { CapabilityOperation, CapabilityResource } from './capability.ts';
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

/** The HTTP methods of each declared interaction, at the type's URL and at one resource's. */
const TYPE_METHODS: Partial<Record<CapabilityResource['interactions'][number], string>> = {
  'search-type': 'GET',
  create: 'POST',
};
const INSTANCE_METHODS: Partial<Record<CapabilityResource['interactions'][number], string>> = {
  read: 'GET',
  update: 'PUT',
  delete: 'DELETE',
};
const HISTORY_METHODS: Partial<Record<CapabilityResource['interactions'][number], string>> = {
  'history-instance': 'GET',
};
const VERSION_METHODS: Partial<Record<CapabilityResource['interactions'][number], string>> = { vread: 'GET' };

/** Where a method on a served type may be unsupported: the type, an instance, its history, one version. */
const INTERACTION_PATHS = [
  '/fhir/:type',
  '/fhir/:type/:id',
  '/fhir/:type/:id/_history',
  '/fhir/:type/:id/_history/:vid',
];

/** Mounts `unsupportedInteraction` at every path an interaction lives at: after the real routes. */
export function answerUnsupportedInteractions<E extends Env>(
  app: Hono<E>,
  served: readonly Pick<CapabilityResource, 'type' | 'interactions'>[],
): void {
  const unsupported = unsupportedInteraction(served);
  for (const path of INTERACTION_PATHS) app.all(path, unsupported);
}

/**
 * For `/fhir/:type`, `/fhir/:type/:id` and its history after the real routes: a method this server does not offer on
 * a type it serves is a 405 whose `Allow` lists what the type's declared interactions offer there (as the
 * CapabilityStatement says); a type it does not serve at all is a 404.
 */
export function unsupportedInteraction(
  served: readonly Pick<CapabilityResource, 'type' | 'interactions'>[],
): (c: Context) => Response {
  return (c) => {
    const type = c.req.param('type') ?? '';
    const declared = served.find((r) => r.type === type);
    if (!declared) return notServed(type);
    const methods =
      c.req.param('vid') !== undefined
        ? VERSION_METHODS
        : c.req.path.endsWith('/_history')
          ? HISTORY_METHODS
          : c.req.param('id') === undefined
            ? TYPE_METHODS
            : INSTANCE_METHODS;
    const allow = [...new Set(declared.interactions.flatMap((i) => methods[i] ?? []))];
    return fhirResponse(methodNotAllowed(`${c.req.method} is not supported on ${c.req.path}`), 405, {
      Allow: allow.join(', '),
    });
  };
}

/**
 * The history of a whole type or of the whole server (`GET [type]/_history`, `GET /_history`, R4
 * http.html#history), which no type here declares (`history-type` is not among the interactions a
 * CapabilityResource can have): a 404 naming what is not offered and
 * where one resource's history is, instead of `_history` being read as an id (a 400 about ids). Mount it
 * before the resource routes, whose `/:id` would take it.
 */
export function answerUnofferedHistory<E extends Env>(
  app: Hono<E>,
  served: readonly Pick<CapabilityResource, 'type'>[],
): void {
  app.all('/fhir/_history', () =>
    notOffered(
      'The history of the whole server (history-system) is not offered here: read one resource’s at [type]/[id]/_history',
    ),
  );
  app.all('/fhir/:type/_history', (c) => {
    const type = c.req.param('type');
    if (!served.some((r) => r.type === type)) return notServed(type);
    return notOffered(
      `The history of every ${type} (history-type) is not offered here: read one ${type}’s at ${type}/[id]/_history`,
    );
  });
}

/** A 404 for what this server does not offer at that URL (not for a resource it does not find). */
function notOffered(text: string): Response {
  return fhirResponse(outcomeOf('not-found', [issue({ text, code: 'not-supported' })]), 404);
}

const notServed = (type: string) => notOffered(`This server does not serve ${type} resources`);

/** Where an operation is invoked: at the FHIR base, on a type, or on one resource of it. */
type OperationLevel = 'base' | 'type' | 'instance';

/** Where a `$name` segment can stand: at the base, on a type, on one resource. */
const OPERATION_PATHS = ['/fhir/:op{\\$[^/]+}', '/fhir/:type/:op{\\$[^/]+}', '/fhir/:type/:id/:op{\\$[^/]+}'];

/**
 * A `$name` segment is an operation, never an id: mount after the token check and before the reads, so
 * each is answered as `operationInvocation` says unless it is invoked as declared.
 */
export function checkOperationsAsDeclared<E extends Env>(
  app: Hono<E>,
  served: readonly Pick<CapabilityResource, 'type' | 'operations'>[],
  atBase: readonly CapabilityOperation[],
): void {
  const check = operationInvocation(served, atBase);
  for (const path of OPERATION_PATHS) app.all(path, check);
}

/**
 * For a `$name` path segment, after the token check and before the reads (which would take `$validate`
 * for an id): an operation invoked as declared goes on to its route. One the CapabilityStatement declares
 * but asked with another method is a 405 whose `Allow` lists its methods; asked at another level, a 404
 * saying where it is invoked; one not declared at all, a 404 naming it. Not "an id is 1 to 64 letters".
 */
function operationInvocation(
  served: readonly Pick<CapabilityResource, 'type' | 'operations'>[],
  atBase: readonly CapabilityOperation[],
): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.param('type');
    const name = (c.req.param('op') ?? '').slice(1);
    const level: OperationLevel = type === undefined ? 'base' : c.req.param('id') === undefined ? 'type' : 'instance';
    const resource = type === undefined ? undefined : served.find((r) => r.type === type);
    if (type !== undefined && !resource) return notServed(type);
    const operation = (level === 'base' ? atBase : (resource?.operations ?? [])).find((o) => o.name === name);
    const where = level === 'base' ? 'at its base' : `on ${type}`;
    if (!operation) return notOffered(`This server has no operation $${name} ${where} (see /fhir/metadata)`);
    const methods = operation.methods ?? ['POST'];
    const levels: readonly OperationLevel[] = level === 'base' ? ['base'] : (operation.levels ?? ['type']);
    if (!levels.includes(level)) {
      const paths = levels.map((l) => (l === 'type' ? `/fhir/${type}/$${name}` : `/fhir/${type}/<id>/$${name}`));
      return notOffered(`$${name} is invoked at ${paths.join(' or ')}, with ${methods.join(' or ')}`);
    }
    if (!(methods as readonly string[]).includes(c.req.method))
      return fhirResponse(
        methodNotAllowed(`$${name} is invoked with ${methods.join(' or ')}, not ${c.req.method}`),
        405,
        { Allow: methods.join(', ') },
      );
    await next();
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
