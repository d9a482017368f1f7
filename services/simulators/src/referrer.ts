import type {
  DiagnosticReport,
  ImagingStudy,
  Parameters,
  ParametersParameter,
  Patient,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import { alertDecisionCoding, CODE_SYSTEMS, OutcomeError, serverError } from '@imaging/fhir';
import type { AlertDecision, PlacedOrder, WithId } from '@imaging/fhir';
import type { CallOptions, FhirClient } from './fhir-client.ts';
import { pollUntil, StopPolling } from './poll.ts';

export interface StatusSeen {
  status: Task['status'];
  /** When the referrer first saw it (ms since the epoch). */
  at: number;
  task: WithId<Task>;
}

/** What the referrer receives when its order is done: the report and the studies it cites. */
export interface ReceivedResult {
  report: WithId<DiagnosticReport>;
  studies: WithId<ImagingStudy>[];
}

/** Someone who answers an alert: a name, or a reference (a PractitionerRole of the directory, by identifier). */
export type Answerer = string | Reference;

/** The call that gave a CRITICAL finding by voice: by whom, when (ISO date-time), and to whom. */
export interface VoiceCall {
  by: Answerer;
  at: string;
  to?: Answerer;
}

export interface AlertAcknowledgement {
  by: Answerer;
  note?: string;
  /** For a CRITICAL alert, here or with the action. */
  call?: VoiceCall;
}

/** What was done about a CRITICAL or CANCER alert: exactly one of a decision, a follow-up or a referral. */
export type AlertActionTaken = { by: Answerer; note?: string; call?: VoiceCall } & (
  | { decision: AlertDecision }
  | { followUp: Reference<ServiceRequest> }
  | { referral: Reference<ServiceRequest> }
);

/**
 * A referrer (a GP practice's or a clinician's system) using its own region's gateway: registers a
 * patient, places an imaging order, watches the order's Task and reads the report, and answers the result
 * alerts raised for it: acknowledges them and records the action taken (docs/clinical-safety.md).
 */
export interface Referrer {
  readonly ods: string;
  registerPatient(patient: Patient, options?: CallOptions): Promise<WithId<Patient>>;
  /** Places an order; the performer may be served by any region. */
  placeOrder(order: ServiceRequest, options?: CallOptions): Promise<PlacedOrder>;
  readTask(id: string, options?: CallOptions): Promise<WithId<Task>>;
  /** Polls the order's Task until it reaches `status`; fails fast if it ends in another final state. */
  waitForTaskStatus(
    taskId: string,
    status: Task['status'],
    timeoutMs: number,
    options?: CallOptions,
  ): Promise<StatusSeen>;
  /** Cancels an order that has not started (the requester's only move on the Task). */
  cancelOrder(task: WithId<Task>, options?: CallOptions): Promise<WithId<Task>>;
  /** The report a completed Task points to, and the studies it cites. */
  readResult(task: Task, options?: CallOptions): Promise<ReceivedResult>;
  /** The result alerts raised for this organisation that are still open (acknowledgement Tasks), oldest first. */
  findOpenAlerts(options?: CallOptions): Promise<WithId<Task>[]>;
  /** `$acknowledge` on an alert, pinned to the version read; the updated alert. */
  acknowledgeAlert(
    alert: WithId<Task>,
    acknowledgement: AlertAcknowledgement,
    options?: CallOptions,
  ): Promise<WithId<Task>>;
  /** `$record-action` on an acknowledged CRITICAL or CANCER alert, pinned to the version read; closes it. */
  recordAlertAction(alert: WithId<Task>, action: AlertActionTaken, options?: CallOptions): Promise<WithId<Task>>;
}

const answerer = (name: string, who: Answerer): ParametersParameter =>
  typeof who === 'string' ? { name, valueString: who } : { name, valueReference: who };

function callParameters(call: VoiceCall | undefined): ParametersParameter[] {
  if (!call) return [];
  return [
    answerer('communicatedBy', call.by),
    { name: 'communicatedAt', valueDateTime: call.at },
    ...(call.to ? [answerer('communicatedTo', call.to)] : []),
  ];
}

function actionParameter(action: AlertActionTaken): ParametersParameter {
  if ('decision' in action) return { name: 'decision', valueCoding: alertDecisionCoding(action.decision) };
  if ('followUp' in action) return { name: 'followUp', valueReference: action.followUp };
  return { name: 'referral', valueReference: action.referral };
}

const parameters = (parameter: ParametersParameter[]): Parameters => ({ resourceType: 'Parameters', parameter });

const FINAL = new Set<Task['status']>(['completed', 'cancelled', 'rejected', 'failed', 'entered-in-error']);

export function createReferrer(gateway: FhirClient, ods: string): Referrer {
  const referrer: Referrer = {
    ods,

    async registerPatient(patient, options) {
      return (await gateway.create(patient, options)).resource;
    },

    async placeOrder(order, options) {
      const { resource: serviceRequest, created } = await gateway.create(order, options);
      const tasks = await gateway.search<Task>(
        'Task',
        { focus: `ServiceRequest/${serviceRequest.id}`, code: `${CODE_SYSTEMS.taskCode}|fulfil` },
        options,
      );
      const task = tasks[0];
      if (!task)
        throw new OutcomeError(
          serverError(`The gateway made no fulfilment Task for ServiceRequest/${serviceRequest.id}`),
        );
      return { serviceRequest, task, created };
    },

    readTask(id, options) {
      return gateway.read<Task>('Task', id, options);
    },

    async waitForTaskStatus(taskId, status, timeoutMs, options) {
      return pollUntil(
        async () => {
          const task = await gateway.read<Task>('Task', taskId, options);
          if (task.status === status) return { status, at: Date.now(), task };
          if (FINAL.has(task.status)) throw new StopPolling(`Task/${taskId} ended ${task.status}, not ${status}`);
          return undefined;
        },
        { timeoutMs, what: `Task/${taskId} to be ${status}` },
      );
    },

    async cancelOrder(task, options) {
      return gateway.update<Task>({ ...task, status: 'cancelled' }, task.meta?.versionId ?? '', options);
    },

    async readResult(task, options) {
      const ref = task.output?.map((o) => o.valueReference?.reference).find((r) => r?.startsWith('DiagnosticReport/'));
      if (!ref) throw new OutcomeError(serverError(`Task/${task.id} has no report as output (it is ${task.status})`));
      const report = await gateway.read<DiagnosticReport>(
        'DiagnosticReport',
        ref.slice('DiagnosticReport/'.length),
        options,
      );
      const studies: WithId<ImagingStudy>[] = [];
      for (const cited of report.imagingStudy ?? []) {
        if (cited.reference?.startsWith('ImagingStudy/'))
          studies.push(
            await gateway.read<ImagingStudy>('ImagingStudy', cited.reference.slice('ImagingStudy/'.length), options),
          );
      }
      return { report, studies };
    },

    async findOpenAlerts(options) {
      const alerts = await gateway.search<Task>(
        'Task',
        { code: `${CODE_SYSTEMS.taskCode}|acknowledge-result`, status: 'requested,in-progress', _count: '100' },
        options,
      );
      return alerts.sort((a, b) => (a.authoredOn ?? '').localeCompare(b.authoredOn ?? ''));
    },

    acknowledgeAlert(alert, acknowledgement, options) {
      return gateway.operation<WithId<Task>>(
        `Task/${encodeURIComponent(alert.id)}/$acknowledge`,
        parameters([
          answerer('acknowledgedBy', acknowledgement.by),
          ...(acknowledgement.note ? [{ name: 'note', valueString: acknowledgement.note }] : []),
          ...callParameters(acknowledgement.call),
        ]),
        { ...options, ifMatch: alert.meta?.versionId ?? '' },
      );
    },

    recordAlertAction(alert, action, options) {
      return gateway.operation<WithId<Task>>(
        `Task/${encodeURIComponent(alert.id)}/$record-action`,
        parameters([
          answerer('recordedBy', action.by),
          actionParameter(action),
          ...(action.note ? [{ name: 'note', valueString: action.note }] : []),
          ...callParameters(action.call),
        ]),
        { ...options, ifMatch: alert.meta?.versionId ?? '' },
      );
    },
  };
  return referrer;
}
