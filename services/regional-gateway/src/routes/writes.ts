import { requireScope } from '@imaging/auth';
import { createdResponse, fhirResponse, ifMatchVersion, readResource } from '@imaging/fhir-http';
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
import { placeOrder } from '../domain/orders.ts';
import { registerEndpoint, registerPatient } from '../domain/registrations.ts';
import { issueReport, recordImagingStudy } from '../domain/results.ts';
import { updateTask } from '../domain/tasks.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/** 201 with Location when something was created; 200 with the existing resource for a repeat. */
function written(deps: AppDeps, resource: Resource & { id: string }, created: boolean): Response {
  return created ? createdResponse(resource, deps.region.fhirBaseUrl) : fhirResponse(resource, 200);
}

/** The writes each resource type allows; each is one domain operation. */
export function writeRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const wake = () => deps.wakeDelivery?.();

  app.post('/Patient', requireScope('Patient', 'create'), async (c) => {
    const { resource, created } = await registerPatient(
      deps,
      callerFrom(c, deps),
      await readResource<Patient>(c, 'Patient'),
    );
    return written(deps, resource, created);
  });

  app.post('/ServiceRequest', requireScope('ServiceRequest', 'create'), async (c) => {
    const order = await placeOrder(
      deps,
      callerFrom(c, deps),
      await readResource<ServiceRequest>(c, 'ServiceRequest'),
      c.var.correlationId,
    );
    if (order.routedTo) wake();
    return written(deps, order.serviceRequest, order.created);
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
    return fhirResponse(task);
  });

  app.post('/ImagingStudy', requireScope('ImagingStudy', 'create'), async (c) => {
    const { resource, created } = await recordImagingStudy(
      deps,
      callerFrom(c, deps),
      await readResource<ImagingStudy>(c, 'ImagingStudy'),
      c.var.correlationId,
    );
    wake();
    return written(deps, resource, created);
  });

  app.post('/DiagnosticReport', requireScope('DiagnosticReport', 'create'), async (c) => {
    const { resource, created } = await issueReport(
      deps,
      callerFrom(c, deps),
      await readResource<DiagnosticReport>(c, 'DiagnosticReport'),
      c.var.correlationId,
    );
    wake();
    return written(deps, resource, created);
  });

  app.post('/Endpoint', requireScope('Endpoint', 'create'), async (c) => {
    const { resource, created } = await registerEndpoint(
      deps,
      callerFrom(c, deps),
      await readResource<Endpoint>(c, 'Endpoint'),
    );
    return written(deps, resource, created);
  });

  return app;
}
