import type {
  BundleEntry,
  Communication,
  Device,
  DiagnosticReport,
  Flag,
  ImagingStudy,
  Patient,
  Reference,
  ServiceRequest,
  Task,
} from '@medplum/fhirtypes';
import {
  ALERT_STEP_DISPLAY,
  BREACH_KIND_INFO,
  breachKindCoding,
  CODE_SYSTEMS,
  odsOf,
  REFERRAL_PATHWAY_DISPLAY,
  REFERRAL_PATHWAY_PRIORITY,
  referralPathwayOf,
  searchAll,
  searchOne,
  SYSTEMS,
  taskCodeOf,
} from '@imaging/fhir';
import type { TurnaroundStage, WithId } from '@imaging/fhir';
import { climbLadder, nextStepIndex } from './alert-recipients.ts';
import type { ActorReference } from './alert-task.ts';
import { communicationEntry, firstRecipient, recipientKey, recipientName, skippedEntries } from './alerts.ts';
import { auditEntry } from './audit.ts';
import { earliestOf, isTestDone, testDateOf } from './dids.ts';
import { reportIssuedAt, testDoneAt } from './result-times.ts';
import { orderOfResult, orderReference } from './result-order.ts';
import { workThroughDue } from './due-work.ts';
import type { DueWork } from './due-work.ts';
import { identifierQuery } from './identifiers.ts';
import { accessOrganisations, labelledAs } from './labels.ts';
import type { GatewayDeps } from './ports.ts';
import { safetyOn } from './ports.ts';
import { runTransaction } from './transactions.ts';
import type { MissedDeadline, StageProgress } from './turnaround.ts';
import { assessStage, deadlinesFor, resolutionOf } from './turnaround.ts';
import type { NewBreach, NewWatch, TurnaroundBreach, TurnaroundWatch } from './turnaround-task.ts';
import {
  breachFlag,
  breachIdentifier,
  breachOf,
  breachParties,
  breachTask,
  dueTurnaroundQuery,
  watchIdentifier,
  watchOf,
  watchTask,
  withBreachCheck,
} from './turnaround-task.ts';

/**
 * Turnaround tracking (requirements 16, 18, 19; docs/clinical-safety.md, Turnaround). In the region that
 * serves the imaging provider, each case gets a watch on its test stage when the order arrives, and one
 * on its report stage when its first study is recorded, each stored in the same transaction as what
 * started it, with its due times (turnaround.ts) and a next check. The safety job reads only the watches
 * and breaches whose next check has come, through the next-check index, and for each:
 * - a watch: a due time met is passed; one missed raises a breach, in one transaction with the watch's
 *   versioned update: a resolve-breach Task for the provider, a Flag on the patient, a Communication to the
 *   provider, an AuditEvent. The watch then waits for its next due time, or finishes;
 * - a breach: resolved (the test or report done, or the order closed) it closes, with its Flag; still
 *   overdue it climbs the alert ladder one step (the provider, its delegate, its responsible clinician, the
 *   network's fail-safe officer), with a Communication and an AuditEvent, the last step repeating.
 * Every change is a versioned update: with N replicas, each breach is raised and each step taken once.
 */

/** Fulfilment statuses that close an order without its test or report. */
const CLOSED: ReadonlySet<string> = new Set(['cancelled', 'rejected', 'failed', 'entered-in-error']);

/** What the audit trail calls each turnaround event (CODE_SYSTEMS.auditSubtype). */
export const BREACH_AUDIT = {
  'breach-raised': 'Turnaround breach raised',
  'breach-escalated': 'Turnaround breach escalated',
  'breach-resolved': 'Turnaround breach resolved',
} as const;

const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';

function time(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

/** A new watch on a stage of a case, created once (conditional on its identifier). */
function watchEntries(
  deps: GatewayDeps,
  input: {
    stage: TurnaroundStage;
    order: ServiceRequest;
    orderRef: Reference;
    focus: Reference;
    patient?: Reference<Patient>;
    correlationId: string;
    from: Date;
    organisations: string[];
  },
): BundleEntry[] {
  const placer = input.order.identifier?.find((i) => i.system === SYSTEMS.placerOrder)?.value;
  const performer = odsOf(input.order.performer?.[0]);
  if (!safetyOn(deps) || !placer || !performer) return [];
  const now = deps.clock.now();
  const pathway = referralPathwayOf(input.order);
  const deadlines = deadlinesFor(input.stage, pathway, input.from, deps.turnaround);
  const watch: NewWatch = {
    identifier: watchIdentifier(placer, input.stage),
    correlationId: input.correlationId,
    stage: input.stage,
    pathway,
    order: input.orderRef,
    focus: input.focus,
    ...(input.patient ? { patient: input.patient } : {}),
    performer,
    from: input.from,
    deadlines,
    raised: [],
    state: 'watching',
    nextCheckAt: new Date(Math.min(...deadlines.map((d) => d.dueAt.getTime()))),
    createdAt: now,
    lastModified: now,
  };
  const identifier = { system: SYSTEMS.task, value: watch.identifier };
  return [
    {
      resource: labelledAs(watchTask(watch), input.organisations),
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(identifier) },
    },
  ];
}

/**
 * The test-stage watch of an order arriving in the region that serves its performer (placed here, or
 * routed here), for the transaction that stores it: its due times run from the request, which cannot
 * have been made after it reached this region.
 */
export function testWatchEntries(
  deps: GatewayDeps,
  input: {
    order: ServiceRequest;
    /** How the transaction refers to the order (`urn:uuid:`). */
    orderUrl: string;
    patient?: Reference<Patient>;
    correlationId: string;
    organisations: string[];
  },
): BundleEntry[] {
  const now = deps.clock.now();
  const authored = time(input.order.authoredOn);
  return watchEntries(deps, {
    stage: 'test',
    order: input.order,
    orderRef: { reference: input.orderUrl },
    focus: { reference: input.orderUrl },
    ...(input.patient ? { patient: input.patient } : {}),
    correlationId: input.correlationId,
    from: authored && authored < now ? authored : now,
    organisations: input.organisations,
  });
}

/**
 * The report-stage watch of an order whose study is being recorded, for the transaction that stores the
 * study: its due times run from the exam. Created once, by the first study that is the test done (an
 * `available` one; a conditional create). An exam claimed before the order was made runs them from now.
 */
export function reportWatchEntries(
  deps: GatewayDeps,
  input: { order: WithId<ServiceRequest>; study: ImagingStudy; studyUrl: string; correlationId: string },
): BundleEntry[] {
  if (!isTestDone(input.study)) return [];
  const now = deps.clock.now();
  const examined = testDateOf(input.study, time(input.order.authoredOn));
  return watchEntries(deps, {
    stage: 'report',
    order: input.order,
    orderRef: { reference: `ServiceRequest/${input.order.id}` },
    focus: { reference: input.studyUrl },
    ...(input.order.subject ? { patient: input.order.subject as Reference<Patient> } : {}),
    correlationId: input.correlationId,
    from: examined && examined < now ? examined : now,
    organisations: accessOrganisations(input.order),
  });
}

export interface TurnaroundPass extends DueWork {
  /** Breaches raised (a breach found already resolved, done late, counts too). */
  breached: number;
  /** Breach escalation steps taken (a repeated reminder at the last step counts as one). */
  escalated: number;
  /** Breaches closed: their test or report done, or their order closed. */
  resolved: number;
}

/** The turnaround part of a safety job pass: every watch and breach whose next check has come. */
export async function checkTurnarounds(deps: GatewayDeps): Promise<TurnaroundPass> {
  const pass = { breached: 0, escalated: 0, resolved: 0 };
  const work = await workThroughDue(deps, {
    query: (now) => dueTurnaroundQuery(now, deps.turnaround.batchSize),
    batchSize: deps.turnaround.batchSize,
    check: (task) =>
      taskCodeOf(task) === 'resolve-breach' ? checkBreach(deps, task, pass) : checkWatch(deps, task, pass),
    what: 'turnaround check',
  });
  return { ...pass, ...work };
}

/**
 * How far a stage of the case has got, from this region's store; no time later than now. Only a result
 * based on this order alone counts (orderOfResult): the test is done by an `available` study, the report
 * by an issued report, each no earlier than this gateway recorded it (result-times.ts).
 */
async function stageProgress(deps: GatewayDeps, order: Reference, stage: TurnaroundStage): Promise<StageProgress> {
  const now = deps.clock.now();
  const notAfterNow = (d: Date | undefined) => (d && d > now ? now : d);
  const ref = orderReference(order) ?? (order.reference as string);
  const fulfilment = await searchOne<Task>(deps.store, 'Task', {
    focus: ref,
    code: `${CODE_SYSTEMS.taskCode}|fulfil`,
  });
  const closedAt =
    fulfilment && CLOSED.has(fulfilment.status) ? notAfterNow(time(fulfilment.lastModified) ?? now) : undefined;
  const forThisOrder = <T extends { basedOn?: Reference[] }>(results: T[]) =>
    results.filter((r) => orderOfResult(r) === ref);
  let doneAt: Date | undefined;
  if (stage === 'test') {
    const studies = forThisOrder(await searchAll<ImagingStudy>(deps.store, 'ImagingStudy', { basedon: ref }));
    if (studies.some(isTestDone)) {
      const requested = await deps.store.read<ServiceRequest>('ServiceRequest', ref.split('/')[1] as string);
      const requestedAt = time(requested.authoredOn);
      doneAt = notAfterNow(earliestOf(await Promise.all(studies.map((s) => testDoneAt(deps, s, requestedAt)))));
    }
  } else {
    const reports = await searchAll<DiagnosticReport>(deps.store, 'DiagnosticReport', { 'based-on': ref });
    doneAt = notAfterNow(earliestOf(await Promise.all(forThisOrder(reports).map((r) => reportIssuedAt(deps, r)))));
  }
  return { ...(doneAt ? { doneAt } : {}), ...(closedAt ? { closedAt } : {}) };
}

/** A look at a watch whose next check has come: raises what was missed, moves its next check on. */
async function checkWatch(deps: GatewayDeps, task: WithId<Task>, pass: Pick<TurnaroundPass, 'breached'>) {
  const watch = watchOf(task);
  const now = deps.clock.now();
  const progress = await stageProgress(deps, watch.order, watch.stage);
  const assessment = assessStage(watch.deadlines, new Set(watch.raised.map((r) => r.kind)), progress, now);
  const organisations = accessOrganisations(task);
  const raising: { url: string; entries: BundleEntry[]; breach: NewBreach }[] = [];
  for (const missed of assessment.missed) raising.push(await breachEntries(deps, watch, missed, organisations, now));
  const state: TurnaroundWatch['state'] = assessment.nextCheckAt
    ? 'watching'
    : progress.closedAt && !progress.doneAt && !raising.length && !watch.raised.length
      ? 'void'
      : 'finished';
  const unchanged =
    !raising.length && state === watch.state && assessment.nextCheckAt?.getTime() === watch.nextCheckAt?.getTime();
  if (unchanged) return;
  const updated: TurnaroundWatch = {
    ...watch,
    raised: [...watch.raised, ...raising.map((r) => ({ kind: r.breach.kind, task: { reference: r.url } }))],
    state,
    nextCheckAt: assessment.nextCheckAt,
    lastModified: now,
  };
  await runTransaction(deps.store, [
    ...raising.flatMap((r) => r.entries),
    {
      resource: { ...watchTask(updated), id: watch.id },
      request: { method: 'PUT', url: `Task/${watch.id}`, ifMatch: `W/"${watch.versionId}"` },
    },
  ]);
  pass.breached += raising.length;
  for (const { breach } of raising)
    deps.logger.warn('turnaround breach raised', {
      breach: breach.identifier,
      kind: breach.kind,
      pathway: breach.pathway,
      due: breach.dueAt.toISOString(),
      resolved: breach.resolution?.how,
      correlationId: breach.correlationId,
    });
}

/** The sender of what the safety job tells: this gateway. */
function gatewaySender(deps: GatewayDeps): Reference<Device> {
  return {
    identifier: { system: SYSTEMS.serviceId, value: deps.region.serviceId },
    display: deps.region.serviceId,
  };
}

/**
 * A missed due time as a breach: its Task and Flag, and, unless it is already over, its first recipient
 * told (the provider, or the first step of its ladder that can receive). Each is created once.
 */
async function breachEntries(
  deps: GatewayDeps,
  watch: TurnaroundWatch,
  missed: MissedDeadline,
  organisations: string[],
  now: Date,
): Promise<{ url: string; entries: BundleEntry[]; breach: NewBreach }> {
  const { deadline, resolution } = missed;
  const base: NewBreach = {
    identifier: breachIdentifier(watch, deadline.kind),
    correlationId: watch.correlationId,
    kind: deadline.kind,
    pathway: watch.pathway,
    dueAt: deadline.dueAt,
    order: watch.order,
    focus: watch.focus,
    ...(watch.patient ? { patient: watch.patient } : {}),
    performer: watch.performer,
    raisedAt: now,
    step: 'provider',
    recipients: [],
    ...(resolution ? { resolution } : {}),
    lastModified: now,
  };
  const url = `urn:uuid:${crypto.randomUUID()}`;
  const climb = resolution ? undefined : await firstRecipient(deps, breachParties(base));
  const breach = withBreachCheck<NewBreach>(
    climb
      ? {
          ...base,
          step: climb.recipient.step,
          stepDueAt: new Date(now.getTime() + deps.turnaround.breachStepsMs[watch.pathway]),
          recipients: [climb.recipient.reference],
        }
      : base,
  );
  const identifier = { system: SYSTEMS.task, value: breach.identifier };
  const entries: BundleEntry[] = [
    {
      fullUrl: url,
      resource: labelledAs(breachTask(breach), organisations),
      request: { method: 'POST', url: 'Task', ifNoneExist: identifierQuery(identifier) },
    },
  ];
  if (breach.patient)
    entries.push({
      resource: labelledAs(breachFlag(breach, breach.patient, gatewaySender(deps)), organisations),
      request: {
        method: 'POST',
        url: 'Flag',
        ifNoneExist: identifierQuery({ system: SYSTEMS.flag, value: breach.identifier }),
      },
    });
  if (climb) {
    entries.push(
      communicationEntry(
        breachCommunication(deps, breach, { reference: url }, 'raised', climb.recipient.reference, now, [
          `${BREACH_KIND_INFO[breach.kind].display} (${REFERRAL_PATHWAY_DISPLAY[breach.pathway]}).`,
          `It was due ${breach.dueAt.toISOString()}: ${breach.kind === 'ces-imaging' || breach.kind === 'dm01' ? 'do the test' : 'issue the report'} now.`,
        ]),
        organisations,
      ),
      ...skippedEntries(deps, breach, url, climb.skipped, now),
    );
  }
  entries.push(
    auditEntry(deps.region, {
      subtype: 'breach-raised',
      description: BREACH_AUDIT['breach-raised'],
      action: 'C',
      who: 'system',
      what: [{ reference: url }, watch.focus],
      ...(breach.patient ? { patient: breach.patient } : {}),
      correlationId: breach.correlationId,
      detail: {
        breach: breach.kind,
        pathway: breach.pathway,
        due: breach.dueAt.toISOString(),
        ...(climb ? { recipient: recipientName(climb.recipient.reference) } : {}),
        ...(resolution ? { resolved: resolution.how, 'resolved-at': resolution.at.toISOString() } : {}),
      },
      recorded: now,
    }),
  );
  return { url, entries, breach };
}

function breachCommunication(
  deps: GatewayDeps,
  breach: NewBreach,
  task: Reference,
  key: string,
  recipient: ActorReference,
  sent: Date,
  text: string[],
  reason?: string,
): Communication {
  return {
    resourceType: 'Communication',
    identifier: [{ system: SYSTEMS.communication, value: `${breach.identifier}-${key}` }],
    basedOn: [task],
    status: 'completed',
    category: [
      { coding: [{ system: COMMUNICATION_CATEGORY, code: 'notification', display: 'Notification' }] },
      { coding: [breachKindCoding(breach.kind)] },
    ],
    priority: REFERRAL_PATHWAY_PRIORITY[breach.pathway],
    ...(breach.patient ? { subject: breach.patient } : {}),
    about: [breach.focus],
    sent: sent.toISOString(),
    recipient: [recipient],
    sender: gatewaySender(deps),
    ...(reason ? { reasonCode: [{ text: reason }] } : {}),
    payload: text.map((contentString) => ({ contentString })),
  };
}

/** A look at a breach whose next check has come: closes it when resolved, else takes one step up its ladder. */
async function checkBreach(
  deps: GatewayDeps,
  task: WithId<Task>,
  pass: Pick<TurnaroundPass, 'escalated' | 'resolved'>,
) {
  const breach = breachOf(task);
  const now = deps.clock.now();
  const resolution =
    breach.resolution ??
    resolutionOf(await stageProgress(deps, breach.order, BREACH_KIND_INFO[breach.kind].stage), breach.dueAt);
  if (resolution && !breach.resolution) {
    await resolveBreach(deps, breach, resolution, now);
    pass.resolved++;
  } else if (!resolution && breach.stepDueAt && breach.stepDueAt <= now) {
    await escalateBreach(deps, breach, accessOrganisations(task), now);
    pass.escalated++;
  } else if (breach.nextCheckAt?.getTime() !== withBreachCheck(breach).nextCheckAt?.getTime()) {
    // A next check with nothing due (a stale index value): set it right, so it is not read again and again.
    await deps.store.update({ ...breachTask(withBreachCheck(breach)), id: breach.id } as WithId<Task>, {
      ifMatch: breach.versionId,
    });
  }
}

async function resolveBreach(
  deps: GatewayDeps,
  breach: TurnaroundBreach,
  resolution: NonNullable<TurnaroundBreach['resolution']>,
  now: Date,
): Promise<void> {
  const closed = withBreachCheck({ ...breach, resolution, lastModified: now });
  const flag = await searchOne<Flag>(deps.store, 'Flag', {
    identifier: `${SYSTEMS.flag}|${breach.identifier}`,
  });
  const entries: BundleEntry[] = [
    {
      resource: { ...breachTask(closed), id: breach.id },
      request: { method: 'PUT', url: `Task/${breach.id}`, ifMatch: `W/"${breach.versionId}"` },
    },
  ];
  if (flag?.status === 'active')
    entries.push({
      resource: {
        ...flag,
        status: 'inactive',
        period: { ...flag.period, end: resolution.at.toISOString() },
      },
      request: { method: 'PUT', url: `Flag/${flag.id}`, ifMatch: `W/"${flag.meta?.versionId}"` },
    });
  entries.push(
    auditEntry(deps.region, {
      subtype: 'breach-resolved',
      description: BREACH_AUDIT['breach-resolved'],
      action: 'U',
      who: 'system',
      what: [{ reference: `Task/${breach.id}` }, ...(flag ? [{ reference: `Flag/${flag.id}` }] : [])],
      ...(breach.patient ? { patient: breach.patient } : {}),
      correlationId: breach.correlationId,
      detail: { breach: breach.kind, resolution: resolution.how, 'resolved-at': resolution.at.toISOString() },
      recorded: now,
    }),
  );
  await runTransaction(deps.store, entries);
}

/** One step up the alert ladder (or the last step's reminder again), in one versioned transaction. */
async function escalateBreach(
  deps: GatewayDeps,
  breach: TurnaroundBreach,
  organisations: string[],
  now: Date,
): Promise<void> {
  const taskRef = `Task/${breach.id}`;
  const climb = await climbLadder(
    deps,
    breachParties(breach),
    nextStepIndex({ kind: 'resolve-breach', step: breach.step }),
  );
  const { recipient } = climb;
  const reminder = recipient.step === breach.step;
  const known = new Set(breach.recipients.map(recipientKey));
  const updated = withBreachCheck({
    ...breach,
    step: recipient.step,
    stepDueAt: new Date(now.getTime() + deps.turnaround.breachStepsMs[breach.pathway]),
    recipients: known.has(recipientKey(recipient.reference))
      ? breach.recipients
      : [...breach.recipients, recipient.reference],
    lastModified: now,
  });
  const reason = `${BREACH_KIND_INFO[breach.kind].display}: not resolved in time`;
  await runTransaction(deps.store, [
    {
      resource: { ...breachTask(updated), id: breach.id },
      request: { method: 'PUT', url: taskRef, ifMatch: `W/"${breach.versionId}"` },
    },
    communicationEntry(
      breachCommunication(
        deps,
        breach,
        { reference: taskRef },
        // The version being replaced makes each escalation's Communication its own, and the same on a retry.
        `${recipient.step}-${breach.versionId}`,
        recipient.reference,
        now,
        [
          `${reason} (${REFERRAL_PATHWAY_DISPLAY[breach.pathway]}): ${reminder ? 'reminder' : 'escalated to you'} (${ALERT_STEP_DISPLAY[recipient.step]}).`,
          `It was due ${breach.dueAt.toISOString()}; raised ${breach.raisedAt.toISOString()}.`,
        ],
        reason,
      ),
      organisations,
    ),
    ...skippedEntries(deps, breach, taskRef, climb.skipped, now),
    auditEntry(deps.region, {
      subtype: 'breach-escalated',
      description: BREACH_AUDIT['breach-escalated'],
      action: 'U',
      who: 'system',
      what: [{ reference: taskRef }, breach.focus],
      ...(breach.patient ? { patient: breach.patient } : {}),
      correlationId: breach.correlationId,
      detail: {
        breach: breach.kind,
        from: breach.step,
        to: recipient.step,
        recipient: recipientName(recipient.reference),
        ...(reminder ? { reminder: 'true' } : {}),
        'next-check': updated.nextCheckAt?.toISOString() ?? '',
      },
      recorded: now,
    }),
  ]);
  deps.logger.warn('turnaround breach escalated', {
    breach: breach.identifier,
    from: breach.step,
    to: recipient.step,
    skipped: climb.skipped.map((s) => s.step),
    correlationId: breach.correlationId,
  });
}
