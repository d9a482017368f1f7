import { requireScope } from '@imaging/auth';
import { fhirResponse, ifMatchVersion, readResource } from '@imaging/fhir-http';
import type { Parameters } from '@medplum/fhirtypes';
import { Hono } from 'hono';
import { acknowledgeAlert, recordAlertAction } from '../domain/alert-operations.ts';
import type { AppDeps, AppEnv } from '../deps.ts';
import { callerFrom } from '../deps.ts';

/**
 * `POST /fhir/Task/{id}/$acknowledge` and `POST /fhir/Task/{id}/$record-action`: Parameters in, the
 * updated alert Task out. An optional If-Match pins the version the caller read.
 */
export function alertOperationRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const operations = [
    ['$acknowledge', acknowledgeAlert],
    ['$record-action', recordAlertAction],
  ] as const;
  for (const [name, operate] of operations) {
    app.post(`/:id/${name}`, requireScope('Task', 'update'), async (c) => {
      const task = await operate(
        deps,
        callerFrom(c, deps),
        c.req.param('id'),
        await readResource<Parameters>(c, 'Parameters'),
        ifMatchVersion(c),
      );
      // The answer may have queued a message for the performer's region.
      deps.wakeDelivery?.();
      return fhirResponse(task);
    });
  }
  return app;
}
