import type { DiagnosticReport, Flag, ImagingStudy, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsReference, searchAll, SYSTEMS } from '@imaging/fhir';
import type { AlertCategory, Caller, WithId } from '@imaging/fhir';
import {
  exampleDiagnosticReport,
  exampleEndpoint,
  exampleImagingStudy,
  examplePatient,
  exampleServiceRequest,
} from '@imaging/fhir/examples';
import { deliverDue } from '../domain/delivery.ts';
import { placeOrder } from '../domain/orders.ts';
import type { GatewayDeps } from '../domain/ports.ts';
import { registerEndpoint, registerPatient } from '../domain/registrations.ts';
import { issueReport, recordImagingStudy } from '../domain/results.ts';
import { RN1_RIS } from './alerts.ts';
import type { testRegions } from './regions.ts';
import { GP, RIS } from './regions.ts';

const byCode = (code: string) => ({ code: `${CODE_SYSTEMS.taskCode}|${code}` });

/** A region's turnaround watches. */
export const turnaroundWatches = (deps: GatewayDeps) => searchAll<Task>(deps.store, 'Task', byCode('watch-turnaround'));
/** A region's breach Tasks. */
export const breachTasks = (deps: GatewayDeps) => searchAll<Task>(deps.store, 'Task', byCode('resolve-breach'));
/** A region's Flags. */
export const flags = (deps: GatewayDeps) => searchAll<Flag>(deps.store, 'Flag');

/**
 * An order placed now through the domain, by the GP practice N81001 in the north, from RM1 in the midlands
 * (routed, the default) or RN1 in the north, and delivered: the region that serves the performer now
 * watches its turnaround. Returns that region, its provider, and its copy of the order.
 */
export async function turnaroundCase(
  regions: ReturnType<typeof testRegions>,
  options: { order?: Partial<ServiceRequest>; performer?: 'RM1' | 'RN1' } = {},
) {
  const performer = options.performer ?? 'RM1';
  const { north } = regions;
  await registerPatient(north, GP, examplePatient());
  await placeOrder(
    north,
    GP,
    exampleServiceRequest({
      authoredOn: regions.clock.now().toISOString(),
      performer: [odsReference(performer)],
      ...options.order,
    }),
    'case-1',
  );
  await deliverDue(north);
  const deps = performer === 'RM1' ? regions.midlands : north;
  const [order] = await searchAll<ServiceRequest>(deps.store, 'ServiceRequest');
  return { deps, provider: performer === 'RM1' ? RIS : RN1_RIS, order: order as WithId<ServiceRequest> };
}

/** The provider records the study of an order, done at `started`, with its DICOMweb Endpoint. */
export async function recordStudy(
  deps: GatewayDeps,
  provider: Caller,
  order: WithId<ServiceRequest>,
  started: Date,
): Promise<WithId<ImagingStudy>> {
  const address = exampleEndpoint().address;
  const endpoint = await registerEndpoint(
    deps,
    provider,
    exampleEndpoint({ id: undefined, identifier: [{ system: 'urn:ietf:rfc:3986', value: address }] }),
  );
  const study = await recordImagingStudy(
    deps,
    provider,
    exampleImagingStudy({
      basedOn: [{ reference: `ServiceRequest/${order.id}` }],
      subject: order.subject as ImagingStudy['subject'],
      endpoint: [{ reference: `Endpoint/${endpoint.resource.id}` }],
      started: started.toISOString(),
      procedureCode: [order.code ?? {}],
    }),
    'case-1',
  );
  return study.resource;
}

/** The provider issues the final report of an order at `issued`, with its alert category. */
export async function issueFinalReport(
  deps: GatewayDeps,
  provider: Caller,
  order: WithId<ServiceRequest>,
  options: { category: AlertCategory; issued: Date; conclusion?: string },
): Promise<WithId<DiagnosticReport>> {
  const report = await issueReport(
    deps,
    provider,
    exampleDiagnosticReport(
      {
        identifier: [{ system: SYSTEMS.report, value: `${provider.organisation}-REP-${order.id}` }],
        performer: [odsReference(provider.organisation as string)],
        basedOn: [{ reference: `ServiceRequest/${order.id}` }],
        subject: order.subject as DiagnosticReport['subject'],
        code: order.code ?? exampleDiagnosticReport().code,
        issued: options.issued.toISOString(),
        ...(options.conclusion ? { conclusion: options.conclusion } : {}),
      },
      options.category,
    ),
    'case-1',
  );
  return report.resource;
}
