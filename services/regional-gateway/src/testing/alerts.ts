import type {
  AuditEvent,
  Bundle,
  Communication,
  MessageHeader,
  Patient,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsReference, searchAll, SYSTEMS } from '@imaging/fhir';
import type { AlertCategory, Caller, WithId } from '@imaging/fhir';
import { exampleDiagnosticReport, examplePatient, exampleServiceRequest } from '@imaging/fhir/examples';
import { deliverDue } from '../domain/delivery.ts';
import { placeOrder } from '../domain/orders.ts';
import type { GatewayDeps } from '../domain/ports.ts';
import { registerPatient } from '../domain/registrations.ts';
import { issueReport } from '../domain/results.ts';
import type { testRegions } from './regions.ts';
import { GP, RIS } from './regions.ts';

/** The north's own imaging provider, for an order that stays in its region. */
export const RN1_RIS: Caller = { clientId: 'ris-rn1', kind: 'provider', organisation: 'RN1', region: 'north' };

export interface AlertCaseOptions {
  category: AlertCategory;
  /** RM1 (the midlands: the order crosses regions, the default) or RN1 (it stays in the north). */
  performer?: 'RM1' | 'RN1';
  /** Who orders, in the north; default the GP practice N81001. */
  referrer?: Caller;
  order?: Partial<ServiceRequest>;
  patient?: Partial<Patient>;
  /** Deliver the report to the north (default true). */
  deliver?: boolean;
}

/**
 * A report with an alert, through the domain: the north orders (by default the GP practice N81001, from
 * RM1 in the midlands), the performer reports with `category`, and the report is delivered. Returns the
 * requester's and the performer's regions and their copies of the order.
 */
export async function alertCase(regions: ReturnType<typeof testRegions>, options: AlertCaseOptions) {
  const performer = options.performer ?? 'RM1';
  const referrer = options.referrer ?? GP;
  const requesterDeps = regions.north;
  const performerDeps = performer === 'RM1' ? regions.midlands : regions.north;
  await registerPatient(requesterDeps, referrer, examplePatient(options.patient));
  const placed = await placeOrder(
    requesterDeps,
    referrer,
    exampleServiceRequest({ performer: [odsReference(performer)], ...options.order }),
    'case-1',
  );
  if (performer === 'RM1') await deliverDue(requesterDeps);
  const placer = placed.serviceRequest.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value as string;
  const [order] = await searchAll<ServiceRequest>(performerDeps.store, 'ServiceRequest', {
    identifier: `${SYSTEMS.placerOrder}|${placer}`,
  });
  const report = await issueReport(
    performerDeps,
    performer === 'RM1' ? RIS : RN1_RIS,
    exampleDiagnosticReport(
      {
        identifier: [{ system: SYSTEMS.report, value: `${performer}-REP-000123` }],
        performer: [odsReference(performer)],
        basedOn: [{ reference: `ServiceRequest/${order?.id}` }],
        subject: order?.subject,
      },
      options.category,
    ),
    'case-1',
  );
  if (performer === 'RM1' && options.deliver !== false) await deliverDue(performerDeps);
  return {
    placed,
    report,
    requester: requesterDeps,
    performer: performerDeps,
    performerOrder: order as WithId<ServiceRequest>,
  };
}

const byCode = (code: string) => ({ code: `${CODE_SYSTEMS.taskCode}|${code}` });

/** A region's acknowledgement Tasks. */
export const acknowledgementTasks = (deps: GatewayDeps) =>
  searchAll<Task>(deps.store, 'Task', byCode('acknowledge-result'));
/** A region's watches on alerts it raised for other regions. */
export const watchTasks = (deps: GatewayDeps) => searchAll<Task>(deps.store, 'Task', byCode('watch-acknowledgement'));
export const communications = (deps: GatewayDeps) => searchAll<Communication>(deps.store, 'Communication');
/** A region's AuditEvents of one subtype (e.g. alert-escalated), oldest first. */
export const auditsOf = async (deps: GatewayDeps, subtype: string) =>
  (await searchAll<AuditEvent>(deps.store, 'AuditEvent', { subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}` })).sort(
    (a, b) => a.recorded.localeCompare(b.recorded),
  );
/** The one acknowledgement Task of a region (throws unless there is exactly one). */
export async function theAlert(deps: GatewayDeps): Promise<WithId<Task>> {
  const tasks = await acknowledgementTasks(deps);
  if (tasks.length !== 1) throw new Error(`expected one acknowledgement Task, found ${tasks.length}`);
  return tasks[0] as WithId<Task>;
}

/** The message for one event (e.g. `report-issued`) that a region has queued and not sent yet. */
export async function queuedMessage(deps: GatewayDeps, event: string): Promise<Bundle> {
  const pending = await searchAll<Task>(deps.store, 'Task', { ...byCode('deliver-message'), status: 'requested' });
  for (const task of pending) {
    const bundle = await deps.store.read<Bundle>('Bundle', task.focus?.reference?.split('/')[1] as string);
    if ((bundle.entry?.[0]?.resource as MessageHeader | undefined)?.eventCoding?.code === event) return bundle;
  }
  throw new Error(`no ${event} message is queued`);
}
