import type {
  Device,
  Flag,
  Meta,
  OperationOutcomeIssue,
  Patient,
  Reference,
  Task,
  TaskInput,
  TaskOutput,
} from '@medplum/fhirtypes';
import {
  alertStepConcept,
  BREACH_KIND_INFO,
  breachKindCoding,
  CODE_SYSTEMS,
  EXTENSIONS,
  isAlertStep,
  isBreachKind,
  isReferralPathway,
  issue,
  odsOf,
  odsReference,
  OutcomeError,
  PROFILE_URLS,
  REFERRAL_PATHWAY_DISPLAY,
  REFERRAL_PATHWAY_PRIORITY,
  referralPathwayCoding,
  SYSTEMS,
  taskCodeConcept,
  taskCodeOf,
  unprocessableIssues,
} from '@imaging/fhir';
import type { AlertStep, BreachKind, ReferralPathway, TurnaroundStage } from '@imaging/fhir';
import type { AlertParties } from './alert-recipients.ts';
import type { ActorReference } from './alert-task.ts';
import { LADDERS } from './alert-task.ts';
import type { BreachResolution, Deadline } from './turnaround.ts';

/**
 * The Tasks of turnaround tracking, typed (docs/clinical-safety.md, Turnaround): the safety layer's watch
 * on a stage of a case (code watch-turnaround), and a breach of one of its due times (resolve-breach), with
 * the Flag that puts the breach on the patient's record. `watchOf`/`watchTask` and `breachOf`/`breachTask`
 * decode and encode them: nothing outside this file knows which Task field carries what.
 *
 * The watch is a Task of its own, not a field of the fulfilment Task, because clients move the fulfilment
 * Task on with versioned updates: a safety layer writing to it would turn their next update into a 412.
 */

/** The safety layer's watch on one stage of a case: its due times, and the breaches raised from them. */
export interface TurnaroundWatch {
  id: string;
  versionId: string;
  meta?: Meta;
  identifier: string;
  correlationId: string;
  stage: TurnaroundStage;
  pathway: ReferralPathway;
  /** This region's order (literal). */
  order: Reference;
  /** What is awaited: the order (a test), or the study (its report). */
  focus: Reference;
  patient?: Reference<Patient>;
  /** The imaging provider, by ODS code: the owner. */
  performer: string;
  /** When the stage began: the request, or the exam. */
  from: Date;
  deadlines: Deadline[];
  raised: { kind: BreachKind; task: Reference }[];
  /** Watching; finished (every due time met or raised); or void (the order was closed). */
  state: 'watching' | 'finished' | 'void';
  nextCheckAt?: Date;
  createdAt: Date;
  lastModified: Date;
}

export type NewWatch = Omit<TurnaroundWatch, 'id' | 'versionId'>;

/** A missed due time, to be resolved by the imaging provider, escalating up its ladder until it is. */
export interface TurnaroundBreach {
  id: string;
  versionId: string;
  meta?: Meta;
  identifier: string;
  correlationId: string;
  kind: BreachKind;
  pathway: ReferralPathway;
  /** The due time missed. */
  dueAt: Date;
  order: Reference;
  focus: Reference;
  patient?: Reference<Patient>;
  /** The imaging provider, by ODS code: the owner, whose people the ladder climbs. */
  performer: string;
  raisedAt: Date;
  step: AlertStep;
  /** When the current step is overdue; absent once resolved. */
  stepDueAt?: Date;
  recipients: ActorReference[];
  resolution?: BreachResolution;
  nextCheckAt?: Date;
  lastModified: Date;
}

export type NewBreach = Omit<TurnaroundBreach, 'id' | 'versionId'>;

const WATCH_STATUS = { watching: 'in-progress', finished: 'completed', void: 'cancelled' } as const;
const INPUT = { pathway: 'pathway', due: 'due', breach: 'breach' } as const;
const OUTPUT = { breach: 'breach', resolvedAt: 'resolved-at', resolution: 'resolution' } as const;

/** A watch's business identifier: one per stage of an order, the same on every replay. */
export function watchIdentifier(placerOrder: string, stage: TurnaroundStage): string {
  return `${placerOrder}-turnaround-${stage}`;
}

/** A breach's business identifier (its Task's and its Flag's): one per due time of a watch. */
export function breachIdentifier(watch: Pick<NewWatch, 'identifier'>, kind: BreachKind): string {
  return `${watch.identifier}-${kind}`;
}

/** The ladder a breach climbs, and who it is between: the imaging provider throughout. */
export function breachParties(breach: Pick<NewBreach, 'performer' | 'identifier'>): AlertParties & {
  identifier: string;
} {
  return {
    kind: 'resolve-breach',
    identifier: breach.identifier,
    owner: odsReference(breach.performer),
    ownerOrganisation: breach.performer,
    performer: breach.performer,
  };
}

const dueInput = (deadline: Deadline): TaskInput => ({
  type: { coding: [breachKindCoding(deadline.kind)], text: INPUT.due },
  valueDateTime: deadline.dueAt.toISOString(),
});

/** The Task for a watch: what to create, or to write back with a versioned update after a look. */
export function watchTask(watch: NewWatch | TurnaroundWatch): Task {
  const last = Math.max(...watch.deadlines.map((d) => d.dueAt.getTime()));
  const task: Task = {
    resourceType: 'Task',
    ...('id' in watch ? { id: watch.id } : {}),
    meta: { ...watch.meta, profile: [PROFILE_URLS.Task] },
    identifier: [{ system: SYSTEMS.task, value: watch.identifier }],
    groupIdentifier: { system: SYSTEMS.correlation, value: watch.correlationId },
    basedOn: [watch.order],
    status: WATCH_STATUS[watch.state],
    intent: 'order',
    priority: REFERRAL_PATHWAY_PRIORITY[watch.pathway],
    code: taskCodeConcept('watch-turnaround'),
    description: `${REFERRAL_PATHWAY_DISPLAY[watch.pathway]}: ${watch.stage === 'test' ? 'test' : 'report'} due times`,
    focus: watch.focus,
    ...(watch.patient ? { for: watch.patient } : {}),
    authoredOn: watch.createdAt.toISOString(),
    lastModified: watch.lastModified.toISOString(),
    owner: odsReference(watch.performer),
    restriction: {
      period: {
        start: watch.from.toISOString(),
        ...(Number.isFinite(last) ? { end: new Date(last).toISOString() } : {}),
      },
    },
    input: [
      { type: { text: INPUT.pathway }, valueCoding: referralPathwayCoding(watch.pathway) },
      ...watch.deadlines.map(dueInput),
    ],
  };
  if (watch.raised.length)
    task.output = watch.raised.map(
      (r): TaskOutput => ({
        type: { coding: [breachKindCoding(r.kind)], text: OUTPUT.breach },
        valueReference: r.task,
      }),
    );
  if (watch.nextCheckAt)
    task.extension = [{ url: EXTENSIONS.nextCheck, valueDateTime: watch.nextCheckAt.toISOString() }];
  return task;
}

/** A breach's next check: its current step's due time while open; none once resolved. */
export function withBreachCheck<T extends NewBreach>(breach: T): T {
  if (breach.resolution) return { ...breach, stepDueAt: undefined, nextCheckAt: undefined };
  return { ...breach, nextCheckAt: breach.stepDueAt };
}

/** The Task for a breach: what to create, or to write back with a versioned update after a change. */
export function breachTask(breach: NewBreach | TurnaroundBreach): Task {
  const task: Task = {
    resourceType: 'Task',
    ...('id' in breach ? { id: breach.id } : {}),
    meta: { ...breach.meta, profile: [PROFILE_URLS.Task] },
    identifier: [{ system: SYSTEMS.task, value: breach.identifier }],
    groupIdentifier: { system: SYSTEMS.correlation, value: breach.correlationId },
    basedOn: [breach.order],
    status: breach.resolution ? 'completed' : 'requested',
    businessStatus: alertStepConcept(breach.step),
    intent: 'order',
    priority: REFERRAL_PATHWAY_PRIORITY[breach.pathway],
    code: taskCodeConcept('resolve-breach'),
    description: `${BREACH_KIND_INFO[breach.kind].display} (${REFERRAL_PATHWAY_DISPLAY[breach.pathway]}), due ${breach.dueAt.toISOString()}`,
    focus: breach.focus,
    ...(breach.patient ? { for: breach.patient } : {}),
    authoredOn: breach.raisedAt.toISOString(),
    lastModified: breach.lastModified.toISOString(),
    owner: odsReference(breach.performer),
    restriction: {
      period: {
        start: breach.raisedAt.toISOString(),
        ...(breach.stepDueAt ? { end: breach.stepDueAt.toISOString() } : {}),
      },
      ...(breach.recipients.length ? { recipient: breach.recipients } : {}),
    },
    input: [
      { type: { text: INPUT.breach }, valueCoding: breachKindCoding(breach.kind) },
      { type: { text: INPUT.pathway }, valueCoding: referralPathwayCoding(breach.pathway) },
      { type: { text: INPUT.due }, valueDateTime: breach.dueAt.toISOString() },
    ],
  };
  if (breach.resolution)
    task.output = [
      { type: { text: OUTPUT.resolvedAt }, valueDateTime: breach.resolution.at.toISOString() },
      { type: { text: OUTPUT.resolution }, valueString: breach.resolution.how },
    ];
  if (breach.nextCheckAt)
    task.extension = [{ url: EXTENSIONS.nextCheck, valueDateTime: breach.nextCheckAt.toISOString() }];
  return task;
}

const FLAG_CATEGORY = 'http://terminology.hl7.org/CodeSystem/flag-category';

/**
 * The Flag that puts a breach on the patient's record for the provider: which due time was missed (its
 * code), from when (period.start, the due time) until it was resolved (period.end, then inactive).
 */
export function breachFlag(breach: NewBreach, patient: Reference<Patient>, author: Reference<Device>): Flag {
  return {
    resourceType: 'Flag',
    identifier: [{ system: SYSTEMS.flag, value: breach.identifier }],
    status: breach.resolution ? 'inactive' : 'active',
    category: [
      { coding: [{ system: FLAG_CATEGORY, code: 'admin', display: 'Administrative' }] },
      { coding: [referralPathwayCoding(breach.pathway)] },
    ],
    code: {
      coding: [breachKindCoding(breach.kind)],
      text: `${BREACH_KIND_INFO[breach.kind].display} (${REFERRAL_PATHWAY_DISPLAY[breach.pathway]})`,
    },
    subject: patient,
    period: {
      start: breach.dueAt.toISOString(),
      ...(breach.resolution ? { end: breach.resolution.at.toISOString() } : {}),
    },
    author,
  };
}

/** Collects what is wrong with a Task as a watch or a breach, one issue per problem, each at its FHIRPath. */
class Problems {
  readonly issues: OperationOutcomeIssue[] = [];
  need<T>(value: T | undefined, expression: string, what: string): T {
    if (value === undefined || value === '') this.issues.push(issue({ code: 'invalid', expression, text: what }));
    return value as T;
  }
  time(value: string | undefined, expression: string, required = true): Date | undefined {
    if (value === undefined) {
      if (required) this.need(undefined, expression, `${expression} is required`);
      return undefined;
    }
    const parsed = new Date(value);
    if (Number.isNaN(parsed.getTime()))
      this.issues.push(issue({ code: 'invalid', expression, text: `'${value}' is not a date-time` }));
    return parsed;
  }
  throwIfAny(): void {
    if (this.issues.length) throw new OutcomeError(unprocessableIssues(this.issues));
  }
}

const inputPath = (name: string) => `Task.input.where(type.text = '${name}')`;

/** What watches and breaches share: identity, case, order, patient, provider, next check. */
function common(task: Task, problems: Problems, code: 'watch-turnaround' | 'resolve-breach') {
  if (taskCodeOf(task) !== code) problems.need(undefined, 'Task.code', `a ${code} Task has the code ${code}`);
  const pathway = task.input?.find((i) => i.type?.text === INPUT.pathway)?.valueCoding;
  if (pathway?.system !== CODE_SYSTEMS.referralPathway || !isReferralPathway(pathway.code))
    problems.need(undefined, inputPath(INPUT.pathway), 'a turnaround Task needs its pathway');
  const nextCheckAt = problems.time(
    task.extension?.find((e) => e.url === EXTENSIONS.nextCheck)?.valueDateTime,
    `Task.extension('${EXTENSIONS.nextCheck}')`,
    false,
  );
  return {
    id: problems.need(task.id, 'Task.id', 'a turnaround Task needs an id'),
    versionId: problems.need(task.meta?.versionId, 'Task.meta.versionId', 'a turnaround Task needs a version'),
    ...(task.meta ? { meta: task.meta } : {}),
    identifier: problems.need(
      task.identifier?.find((i) => i.system === SYSTEMS.task)?.value,
      'Task.identifier',
      `a turnaround Task needs an identifier (${SYSTEMS.task})`,
    ),
    correlationId: problems.need(
      task.groupIdentifier?.system === SYSTEMS.correlation ? task.groupIdentifier.value : undefined,
      'Task.groupIdentifier',
      `a turnaround Task needs its case (${SYSTEMS.correlation})`,
    ),
    pathway: pathway?.code as ReferralPathway,
    order: problems.need(task.basedOn?.[0], 'Task.basedOn', 'a turnaround Task needs its order'),
    focus: problems.need(task.focus, 'Task.focus', 'a turnaround Task needs its focus'),
    ...(task.for ? { patient: task.for as Reference<Patient> } : {}),
    performer: problems.need(odsOf(task.owner), 'Task.owner', 'a turnaround Task needs its owner, by ODS code'),
    ...(nextCheckAt ? { nextCheckAt } : {}),
    lastModified: problems.time(task.lastModified, 'Task.lastModified') as Date,
  };
}

/** Decodes a stored watch Task; one that does not hold a watch is a 422 naming each problem. */
export function watchOf(task: Task): TurnaroundWatch {
  const problems = new Problems();
  const base = common(task, problems, 'watch-turnaround');
  const state = (Object.keys(WATCH_STATUS) as TurnaroundWatch['state'][]).find((s) => WATCH_STATUS[s] === task.status);
  if (!state) problems.need(undefined, 'Task.status', `'${task.status}' is not the status of a turnaround watch`);
  const deadlines = (task.input ?? [])
    .filter((i) => i.type?.text === INPUT.due)
    .map((i, n): Deadline => {
      const kind = i.type?.coding?.find((c) => c.system === CODE_SYSTEMS.turnaroundBreach)?.code;
      if (!isBreachKind(kind)) problems.need(undefined, `${inputPath(INPUT.due)}[${n}]`, 'a due time names its breach');
      return {
        kind: kind as BreachKind,
        dueAt: problems.time(i.valueDateTime, `${inputPath(INPUT.due)}[${n}]`) as Date,
      };
    });
  if (!deadlines.length) problems.need(undefined, inputPath(INPUT.due), 'a turnaround watch needs its due times');
  const stages = new Set(deadlines.map((d) => (isBreachKind(d.kind) ? BREACH_KIND_INFO[d.kind].stage : undefined)));
  const raised = (task.output ?? [])
    .filter((o) => o.type?.text === OUTPUT.breach)
    .map((o) => ({
      kind: o.type?.coding?.find((c) => c.system === CODE_SYSTEMS.turnaroundBreach)?.code as BreachKind,
      task: o.valueReference as Reference,
    }));
  const watch: TurnaroundWatch = {
    ...base,
    stage: [...stages][0] as TurnaroundStage,
    from: problems.time(task.restriction?.period?.start, 'Task.restriction.period.start') as Date,
    deadlines,
    raised,
    state: state as TurnaroundWatch['state'],
    createdAt: problems.time(task.authoredOn, 'Task.authoredOn') as Date,
  };
  if (stages.size > 1) problems.need(undefined, inputPath(INPUT.due), 'the due times of a watch are of one stage');
  problems.throwIfAny();
  return watch;
}

/** Decodes a stored breach Task; one that does not hold a breach is a 422 naming each problem. */
export function breachOf(task: Task): TurnaroundBreach {
  const problems = new Problems();
  const base = common(task, problems, 'resolve-breach');
  const input = (name: string) => task.input?.find((i) => i.type?.text === name);
  const output = (name: string) => task.output?.find((o) => o.type?.text === name);
  const kind = input(INPUT.breach)?.valueCoding;
  if (kind?.system !== CODE_SYSTEMS.turnaroundBreach || !isBreachKind(kind.code))
    problems.need(undefined, inputPath(INPUT.breach), 'a breach Task names its breach');
  const step = task.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEMS.alertStep)?.code;
  if (!isAlertStep(step) || !LADDERS['resolve-breach'].includes(step))
    problems.need(undefined, 'Task.businessStatus', `'${step}' is not a step of a breach's ladder`);
  const resolvedAt = problems.time(output(OUTPUT.resolvedAt)?.valueDateTime, 'Task.output', false);
  const how = output(OUTPUT.resolution)?.valueString;
  const stepDueAt = problems.time(task.restriction?.period?.end, 'Task.restriction.period.end', false);
  const breach: TurnaroundBreach = {
    ...base,
    kind: kind?.code as BreachKind,
    dueAt: problems.time(input(INPUT.due)?.valueDateTime, inputPath(INPUT.due)) as Date,
    raisedAt: problems.time(task.authoredOn, 'Task.authoredOn') as Date,
    step: step as AlertStep,
    ...(stepDueAt ? { stepDueAt } : {}),
    recipients: (task.restriction?.recipient ?? []) as ActorReference[],
    ...(resolvedAt ? { resolution: { at: resolvedAt, how: how === 'order-closed' ? 'order-closed' : 'done' } } : {}),
  };
  problems.throwIfAny();
  return breach;
}

/**
 * The search that finds the watches and breaches whose next check is due: through the next-check index
 * the alerts use, never a scan.
 */
export function dueTurnaroundQuery(now: Date, batchSize: number): Record<string, string> {
  return {
    'next-check': `le${now.toISOString()}`,
    code: `${CODE_SYSTEMS.taskCode}|watch-turnaround,${CODE_SYSTEMS.taskCode}|resolve-breach`,
    _count: String(batchSize),
    _total: 'none',
  };
}
