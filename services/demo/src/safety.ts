import type { AuditEvent, Communication, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, EXTENSIONS, searchAll, SYSTEMS } from '@imaging/fhir';
import type { WithId } from '@imaging/fhir';
import { pollUntil } from '@imaging/simulators';
import { randomUUID } from 'node:crypto';
import { stamp } from './evidence.ts';
import { awaitCopyInMidlands, DICOMWEB, HOP_TIMEOUT_MS, orderFor, taskIn } from './pathway.ts';
import type { DemoContext, Step } from './steps.ts';
import { actors, fact, stores, verify } from './steps.ts';
import { formatMs } from './timeline.ts';
import { DEMO_SAFETY } from './world.ts';

/**
 * The clinical safety scene (docs/clinical-safety.md): a CRITICAL finding on a new order, an alert nobody
 * acknowledges in its window, the north's safety job escalating it to the delegate, who acknowledges it with
 * the call that gave the finding; the action is recorded and the midlands' watch closes. The windows are the
 * demo's short ones (DEMO_SAFETY), so it takes seconds; every step is read back from the stores.
 */
const ORDER = 4;
const CONCLUSION = 'Large saddle pulmonary embolus with right heart strain.';
const { criticalAcknowledgementMs: WINDOW_MS, criticalStepMs: STEP_MS } = DEMO_SAFETY;

const reportOf = (ctx: DemoContext) => `RM1-REP-${ctx.ids.stamp}-${ORDER}`;
const input = (task: Task, name: string) => task.input?.find((i) => i.type?.text === name);
const output = (task: Task, name: string) => task.output?.find((o) => o.type?.text === name);
const stepOf = (task: Task | undefined) =>
  task?.businessStatus?.coding?.find((c) => c.system === CODE_SYSTEMS.alertStep)?.code;

function auditsOf(ctx: DemoContext, region: string, task: Task, subtype: string): Promise<WithId<AuditEvent>[]> {
  return searchAll<AuditEvent>(stores(ctx).region(region), 'AuditEvent', {
    entity: `Task/${task.id}`,
    subtype: `${CODE_SYSTEMS.auditSubtype}|${subtype}`,
  });
}

const detail = (event: AuditEvent | undefined, type: string) =>
  event?.entity?.flatMap((e) => e.detail ?? []).find((d) => d.type === type)?.valueString;

const alertMissed: Step = {
  title: `Safety: RM1 reports a CRITICAL finding; nobody acknowledges it in its window (${WINDOW_MS / 1000} s here), and the north escalates it`,
  async run(ctx) {
    const { gp, ris } = actors(ctx);
    const t = ctx.timeline;
    const caseId = ctx.ids.caseId(ORDER);
    const placed = await gp.placeOrder(
      {
        ...orderFor(ctx, ORDER),
        // Dr Asha Patel requests it: the alert is hers first, then her delegate's.
        extension: [
          {
            url: EXTENSIONS.requestingClinician,
            valueReference: {
              type: 'PractitionerRole',
              identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-patel' },
            },
          },
        ],
      },
      { correlationId: caseId },
    );
    t.event({
      where: 'north',
      who: 'gp-n81001',
      what: `POST ServiceRequest ${ctx.ids.placer(ORDER)} for Dr Asha Patel → Task ${placed.task.status}`,
    });
    const copy = await awaitCopyInMidlands(ctx, ORDER);
    const endpoint = await ris.registerDicomWebEndpoint(DICOMWEB, 'RM1 PACS DICOMweb (WADO-RS)', {
      correlationId: caseId,
    });
    const study = await ris.recordImagingStudy(
      copy,
      endpoint.resource,
      {
        studyUid: `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString()}`,
        accession: `RM1-ACC-${ctx.ids.stamp}-${ORDER}`,
        description: 'CT pulmonary angiogram',
      },
      { correlationId: caseId },
    );
    const report = await ris.issueReport(
      copy,
      study.resource,
      { alertCategory: 'CRITICAL', conclusion: CONCLUSION, identifier: reportOf(ctx) },
      { correlationId: caseId },
    );
    t.event({
      where: 'midlands',
      who: 'ris-rm1',
      what: `POST DiagnosticReport ${reportOf(ctx)} (final, alert CRITICAL)`,
    });

    // The alert, raised in the north when the report arrives.
    const alert = await pollUntil(() => taskIn(ctx, 'north', `${reportOf(ctx)}-acknowledge`), {
      timeoutMs: HOP_TIMEOUT_MS,
      what: 'the CRITICAL alert to be raised in the north',
    });
    const due = new Date(input(alert, 'acknowledgement-due')?.valueDateTime as string);
    const issuedAt = stamp(report.resource);
    t.event({
      where: 'midlands → north',
      who: 'gateway-north',
      what: `alert raised for Dr Asha Patel, due ${Math.round((due.getTime() - issuedAt) / 1000)} s after the report`,
      hopMs: stamp(alert) - issuedAt,
    });
    verify(
      ctx,
      'north',
      `acknowledgement Task: CRITICAL, owner Dr Asha Patel, due ${WINDOW_MS / 1000} s after issue, with her`,
      alert.owner?.identifier?.value === 'n81001-patel' &&
        stepOf(alert) === 'requester' &&
        Math.abs(due.getTime() - issuedAt - WINDOW_MS) < 1_000,
      { owner: alert.owner, step: stepOf(alert), due },
    );
    const watch = await taskIn(ctx, 'midlands', `${reportOf(ctx)}-watch`);
    verify(
      ctx,
      'midlands',
      "the midlands' own watch on it, its check one step after the due time",
      stepOf(watch) === 'watching',
    );

    // Nobody answers: the north's safety job takes it up the ladder once it is due.
    t.event({ where: 'north', who: 'gp-n81001', what: 'nobody acknowledges the alert…', kind: 'note' });
    const escalated = await pollUntil(
      async () => {
        const current = await taskIn(ctx, 'north', `${reportOf(ctx)}-acknowledge`);
        return stepOf(current) === 'delegate' ? current : undefined;
      },
      { timeoutMs: WINDOW_MS + HOP_TIMEOUT_MS, intervalMs: 100, what: 'the alert to be escalated to the delegate' },
    );
    const [event] = await auditsOf(ctx, 'north', escalated, 'alert-escalated');
    const at = new Date(event?.recorded ?? 0).getTime();
    const latency = at - due.getTime();
    ctx.facts.set('escalationLatencyMs', latency);
    t.event({
      where: 'north',
      who: 'safety job',
      what: `escalated to Dr Ben Okafor (delegate), ${formatMs(latency)} past due`,
      hopMs: at - issuedAt,
    });
    verify(
      ctx,
      'north',
      `AuditEvent alert-escalated requester → delegate, not before the due time (+${formatMs(latency)})`,
      detail(event, 'from') === 'requester' && detail(event, 'to') === 'delegate' && latency >= 0,
      event?.entity,
    );
    const told = (
      await searchAll<Communication>(stores(ctx).region('north'), 'Communication', { 'based-on': `Task/${alert.id}` })
    ).filter((c) => c.reasonCode?.[0]?.text && c.recipient?.some((r) => r.identifier?.value === 'n81001-okafor'));
    verify(
      ctx,
      'north',
      'Communication to Dr Ben Okafor: "Critical alert not acknowledged in time"',
      told.length === 1,
    );
    ctx.facts.set('alert4', escalated);
  },
};

const alertAnswered: Step = {
  title:
    "Safety: the delegate acknowledges the alert with the call that gave the finding, records the action; the midlands' watch closes",
  async run(ctx) {
    const { gp } = actors(ctx);
    const t = ctx.timeline;
    const caseId = ctx.ids.caseId(ORDER);
    const escalated = fact<WithId<Task>>(ctx, 'alert4');
    const open = (await gp.findOpenAlerts({ correlationId: caseId })).find((a) => a.id === escalated.id);
    verify(ctx, 'north', 'gp-n81001 finds the alert among its open ones', !!open);
    const okafor = {
      type: 'PractitionerRole' as const,
      identifier: { system: SYSTEMS.practitionerRole, value: 'n81001-okafor' },
      display: 'Dr Ben Okafor',
    };
    let began = performance.now();
    const acknowledged = await gp.acknowledgeAlert(
      open as WithId<Task>,
      { by: okafor, call: { by: 'Dr Eva Novak, RM1 radiologist', at: new Date().toISOString(), to: okafor } },
      { correlationId: caseId },
    );
    t.event({
      where: 'north',
      who: 'gp-n81001',
      what: 'POST Task/$acknowledge: Dr Ben Okafor, with the call',
      hopMs: performance.now() - began,
    });
    verify(
      ctx,
      'north',
      'acknowledged, the voice call recorded; CRITICAL stays open until the action is recorded',
      acknowledged.status === 'in-progress' && !!output(acknowledged, 'verbal-communication'),
      acknowledged.status,
    );
    began = performance.now();
    const closed = await gp.recordAlertAction(
      acknowledged,
      { by: okafor, decision: 'emergency-care', note: 'Patient sent to the emergency department' },
      { correlationId: caseId },
    );
    t.event({
      where: 'north',
      who: 'gp-n81001',
      what: 'POST Task/$record-action: emergency care',
      hopMs: performance.now() - began,
    });
    const stored = await taskIn(ctx, 'north', `${reportOf(ctx)}-acknowledge`);
    verify(
      ctx,
      'north',
      `alert closed ${formatMs(stamp(closed) - new Date(closed.authoredOn as string).getTime())} after it was raised; no further check`,
      stored?.status === 'completed' && !stored.extension?.some((e) => e.url === EXTENSIONS.nextCheck),
      stored?.status,
    );
    const watch = await pollUntil(
      async () => {
        const current = await taskIn(ctx, 'midlands', `${reportOf(ctx)}-watch`);
        return current?.status === 'completed' ? current : undefined;
      },
      { timeoutMs: HOP_TIMEOUT_MS, what: "the midlands' watch to hear of the action" },
    );
    t.event({
      where: 'north → midlands',
      who: 'hub',
      what: 'acknowledgement and action reach the performer',
      hopMs: stamp(watch) - stamp(closed),
    });
    const watchEscalations = await auditsOf(ctx, 'midlands', watch, 'alert-escalated');
    verify(
      ctx,
      'midlands',
      `the watch closed within its step (${STEP_MS / 1000} s), never escalated: the loop is closed at the source`,
      watchEscalations.length === 0,
      watchEscalations.length,
    );
  },
};

export const safetySteps: Step[] = [alertMissed, alertAnswered];
