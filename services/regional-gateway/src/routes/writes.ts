import { requireScope } from '@imaging/auth';
import type { Caller } from '@imaging/fhir';
import { conditionalBases, ifMatchVersion, ifNoneExistSearch, readResource, writeResponse } from '@imaging/fhir-http';
import type {
  DiagnosticReport,
  Endpoint,
  ImagingStudy,
  Patient,
  Resource,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { conditionalMatch } from '../domain/conditional-create.ts';
import { updateOrderEncounter } from '../domain/order-updates.ts';
import { placeOrder } from '../domain/orders.ts';
import { registerEndpoint, registerPatient } from '../domain/registrations.ts';
import type { Recorded } from '../domain/results.ts';
import { issueReport, recordImagingStudy } from '../domain/results.ts';
import { updateTask } from '../domain/tasks.ts';
import type { AppContext, AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/** The types a client creates here; each create is one domain operation, and honours `If-None-Exist`. */
export const CREATABLE_TYPES = ['Patient', 'ServiceRequest', 'ImagingStudy', 'DiagnosticReport', 'Endpoint'] as const;
type CreatableType = (typeof CREATABLE_TYPES)[number];

/** 201 or 200 with Location, ETag and Last-Modified, and the body `Prefer: return=` asks for. */
function written(c: AppContext, deps: AppDeps, { resource, created }: Recorded<Resource>): Response {
  return writeResponse({ resource, created, baseUrl: deps.region.fhirBaseUrl, prefer: c.req.header('Prefer') });
}

/** The writes each resource type allows; each is one domain operation. */
export function writeRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const wake = () => deps.wakeDelivery?.();

  /**
   * `POST /<type>`: with `If-None-Exist`, the one visible match is answered (200) and nothing is written;
   * otherwise `create` decides, under the domain's rules.
   */
  const creates = <T extends Resource>(
    type: CreatableType,
    create: (caller: Caller, resource: T, correlationId: string, correlationMinted: boolean) => Promise<Recorded<T>>,
  ) =>
    app.post(`/${type}`, requireScope(type, 'create'), async (c) => {
      const caller = callerFrom(c, deps);
      const resource = await readResource<T>(c, type as T['resourceType']);
      const condition = ifNoneExistSearch(
        c.req.header('If-None-Exist'),
        type,
        conditionalBases(c, deps.region.fhirBaseUrl),
      );
      const existing = condition ? await conditionalMatch<T>(deps, caller, type, condition) : undefined;
      if (existing) return written(c, deps, { resource: existing, created: false });
      return written(c, deps, await create(caller, resource, c.var.correlationId, c.var.correlationMinted));
    });

  creates<Patient>('Patient', (caller, patient, correlationId) =>
    registerPatient(deps, caller, patient, correlationId),
  );

  creates<ServiceRequest>('ServiceRequest', async (caller, order, correlationId, correlationMinted) => {
    const placed = await placeOrder(deps, caller, order, correlationId, { correlationMinted });
    if (placed.routedTo) wake();
    return { resource: placed.serviceRequest, created: placed.created };
  });

  creates<ImagingStudy>('ImagingStudy', async (caller, study, correlationId) => {
    const recorded = await recordImagingStudy(deps, caller, study, correlationId);
    wake();
    return recorded;
  });

  creates<DiagnosticReport>('DiagnosticReport', async (caller, report, correlationId) => {
    const issued = await issueReport(deps, caller, report, correlationId);
    wake();
    return issued;
  });

  creates<Endpoint>('Endpoint', (caller, endpoint, correlationId) =>
    registerEndpoint(deps, caller, endpoint, correlationId),
  );

  // The requester records what became of the order's encounter (a discharge); nothing else changes.
  app.put('/ServiceRequest/:id', requireScope('ServiceRequest', 'update'), async (c) => {
    const order = await updateOrderEncounter(
      deps,
      callerFrom(c, deps),
      c.req.param('id'),
      await readResource<ServiceRequest>(c, 'ServiceRequest'),
      ifMatchVersion(c),
      c.var.correlationId,
    );
    return written(c, deps, { resource: order, created: false });
  });

  app.put('/Task/:id', requireScope('Task', 'update'), async (c) => {
    const task = await updateTask(
      deps,
      callerFrom(c, deps),
      c.req.param('id'),
      await readResource<Task>(c, 'Task'),
      ifMatchVersion(c),
      c.var.correlationId,
    );
    wake();
    return written(c, deps, { resource: task, created: false });
  });

  return app;
}
