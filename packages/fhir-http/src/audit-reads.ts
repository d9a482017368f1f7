import { forbidden, methodNotAllowed, OutcomeError, resourceIdParam, versionFrom, versionIdParam } from '@imaging/fhir';
import type { FhirStore, WithId } from '@imaging/fhir';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Context, Env, MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import type { CapabilityResource } from './capability.ts';
import { checkHistoryParams, historyBundle, VERSION_READS } from './history.ts';
import { fhirResponse } from './responses.ts';

/**
 * Who reads AuditEvents one by one here, and where everyone else finds theirs: the CapabilityStatement's
 * words and the 403's.
 */
export const AUDIT_EVENT_READERS =
  'Read one by one (read, vread, history) by those who may read any case trail here: the flow view ' +
  '(scope flow/case) and auditors (system/AuditEvent.rs). A case trail names each of its AuditEvents by this ' +
  "URL. Each read is recorded, as any disclosure is. Not searched: a case's AuditEvents are in its " +
  '$case-trail, which is also where its own organisations read them.';

/** The AuditEvent's entry in a CapabilityStatement: read by id, never searched or written by a client. */
export const AUDIT_EVENT_CAPABILITY: CapabilityResource = {
  type: 'AuditEvent',
  interactions: ['read', ...VERSION_READS],
  documentation: AUDIT_EVENT_READERS,
};

export interface AuditEventReads<E extends Env> {
  store: Pick<FhirStore, 'read' | 'history'>;
  /** The FHIR base, for history's links. */
  baseUrl: string;
  /**
   * Why this caller may not read AuditEvents here, or undefined when it may. Decided from the token alone,
   * before anything is read, so a refusal tells nothing about any AuditEvent.
   */
  refusal: (c: Context<E>) => string | undefined;
  /** Records what was read, as the service records any disclosure (an AuditEvent names its patient). */
  disclose: (c: Context<E>, events: readonly WithId<AuditEvent>[]) => void | Promise<void>;
}

/**
 * `AuditEvent/{id}`, its one version and its history (an AuditEvent is written once and never changes), for
 * the readers `refusal` lets through; mount at `/fhir/AuditEvent`, after the bearer-token check. Where a
 * case trail's fullUrl and the flow view's "read it yourself" point. A search is a 405 that says where a
 * case's AuditEvents are. Each read is itself recorded (`disclose`): an AuditEvent names its patient.
 */
export function auditEventReadRoutes<E extends Env>(options: AuditEventReads<E>): Hono<E> {
  const { store, baseUrl, refusal, disclose } = options;
  const app = new Hono<E>();
  const shown = async (c: Context<E>, events: [WithId<AuditEvent>]) => {
    await disclose(c, events);
    return fhirResponse(events[0]);
  };
  const mayRead: MiddlewareHandler<E> = async (c, next) => {
    const why = refusal(c);
    if (why) throw new OutcomeError(forbidden(why));
    await next();
  };

  app.get('/', () =>
    fhirResponse(
      methodNotAllowed(
        "AuditEvents are not searched here: a case's are in $case-trail?correlation-id=, and each is read by its id",
      ),
      405,
      { Allow: '' },
    ),
  );
  // Refused from the token alone, before any id is looked at.
  app.use('/:id', mayRead);
  app.use('/:id/*', mayRead);
  app.get('/:id', async (c) =>
    shown(c, [await store.read<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id')))]),
  );
  app.get('/:id/_history/:vid', async (c) => {
    const vid = versionIdParam(c.req.param('vid'));
    const versions = await store.history<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id')));
    return shown(c, [versionFrom(versions, 'AuditEvent', vid)]);
  });
  app.get('/:id/_history', async (c) => {
    const url = new URL(c.req.url);
    checkHistoryParams(url);
    const versions = await store.history<AuditEvent>('AuditEvent', resourceIdParam(c.req.param('id')));
    await disclose(c, versions);
    return fhirResponse(historyBundle(versions, baseUrl, { type: 'AuditEvent', id: c.req.param('id'), url }));
  });
  return app;
}
