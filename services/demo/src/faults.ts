import type { ServiceRequest, Task } from '@medplum/fhirtypes';
import { SYSTEMS } from '@imaging/fhir';
import type { FhirStore, PlacedOrder, WithId } from '@imaging/fhir';
import { briefDeliveryProgress } from '@imaging/messaging';
import { pollUntil } from '@imaging/simulators';
import {
  attemptsOf,
  auditsFor,
  byIdentifier,
  deliveriesFor,
  destinationOf,
  stamp,
  succeeded,
  theOne,
} from './evidence.ts';
import { awaitCopyInMidlands, HOP_TIMEOUT_MS, orderFor, taskIdentifier } from './pathway.ts';
import type { DemoContext, Step } from './steps.ts';
import { actors, fact, stores, verify } from './steps.ts';
import { formatMs } from './timeline.ts';
import { REGIONS } from './world.ts';

/** Retries back off up to 1 s in the demo, so a recovered region is reached well within this. */
const RECOVERY_TIMEOUT_MS = 15_000;

/** The pending delivery of a case's messages to `destination`, once an attempt has failed. */
function awaitFailedAttempt(
  store: FhirStore,
  correlationId: string,
  destination: string,
  what: string,
): Promise<WithId<Task>> {
  return pollUntil(
    async () =>
      (await deliveriesFor(store, correlationId)).find(
        (d) =>
          destinationOf(d) === destination &&
          d.status === 'requested' &&
          attemptsOf(d) >= 1 &&
          /failed/.test(d.businessStatus?.text ?? ''),
      ),
    { timeoutMs: HOP_TIMEOUT_MS, what },
  );
}

function awaitDelivered(
  store: FhirStore,
  correlationId: string,
  destination: string,
  what: string,
): Promise<WithId<Task>[]> {
  return pollUntil(
    async () => {
      const deliveries = (await deliveriesFor(store, correlationId)).filter((d) => destinationOf(d) === destination);
      return deliveries.length > 0 && deliveries.every((d) => d.status === 'completed') ? deliveries : undefined;
    },
    { timeoutMs: RECOVERY_TIMEOUT_MS, what },
  );
}

/** Why a delivery is waiting, in brief: `attempt 1 failed: 503 (ECONNREFUSED)`. */
export function pendingReason(delivery: Task): string {
  return briefDeliveryProgress(delivery.businessStatus?.text ?? '');
}

const midlandsDown: Step = {
  title: 'Fault: the midlands gateway stops (SIGTERM); a second order is placed in the north and waits',
  async run(ctx) {
    const { gp } = actors(ctx);
    const t = ctx.timeline;
    const north = stores(ctx).region('north');
    const caseId = ctx.ids.caseId(2);
    const how = await ctx.services.midlands.stop();
    t.event({ where: 'midlands', who: 'demo', what: `midlands gateway stopped with SIGTERM (exit ${how})` });
    verify(ctx, 'midlands', 'the gateway drained and exited cleanly (exit 0)', how === 0, how);

    const began = performance.now();
    const placed = await gp.placeOrder(orderFor(ctx, 2), { correlationId: caseId });
    ctx.facts.set('order2', placed);
    t.event({
      where: 'north',
      who: 'gp-n81001',
      what: `POST ServiceRequest ${ctx.ids.placer(2)} → 201, Task ${placed.task.status}`,
      hopMs: performance.now() - began,
    });

    const pending = await awaitFailedAttempt(
      north,
      caseId,
      'imaging-midlands',
      `the north to record a failed delivery of ${ctx.ids.placer(2)}`,
    );
    t.event({ where: 'north → midlands', who: 'hub', what: `delivery pending: ${pendingReason(pending)}` });
    verify(
      ctx,
      'north',
      `delivery of ${ctx.ids.placer(2)} kept in the store (status requested, attempt ${attemptsOf(pending)} failed)`,
      pending.status === 'requested',
    );
    const copies = await byIdentifier(
      stores(ctx).region('midlands'),
      'ServiceRequest',
      SYSTEMS.placerOrder,
      ctx.ids.placer(2),
    );
    verify(
      ctx,
      'midlands',
      'no copy in the midlands store (read while the gateway is down)',
      copies.length === 0,
      copies.length,
    );
    const failures = (await auditsFor(stores(ctx).hub, 'message-routed', caseId, ctx.startedAt)).filter(
      (e) => !succeeded(e),
    );
    verify(
      ctx,
      'national',
      `AuditEvent: the hub recorded ${failures.length} failed routing attempt(s)`,
      failures.length >= 1,
      failures.length,
    );
  },
};

const midlandsBack: Step = {
  title: 'Fault: the midlands gateway starts again; the waiting order is delivered exactly once',
  async run(ctx) {
    const t = ctx.timeline;
    const north = stores(ctx).region('north');
    const midlands = stores(ctx).region('midlands');
    const caseId = ctx.ids.caseId(2);
    const placed = fact<PlacedOrder>(ctx, 'order2');
    const began = performance.now();
    await ctx.services.midlands.start();
    const backAt = Date.now();
    t.event({
      where: 'midlands',
      who: 'demo',
      what: `midlands gateway started again (pid ${ctx.services.midlands.pid})`,
      hopMs: performance.now() - began,
    });

    const copy = await awaitCopyInMidlands(ctx, 2, RECOVERY_TIMEOUT_MS);
    t.event({
      where: 'north → midlands',
      who: 'hub',
      what: `order ${ctx.ids.placer(2)} delivered after the restart`,
      hopMs: Math.max(0, stamp(copy) - backAt),
    });
    const [delivery] = await awaitDelivered(
      north,
      caseId,
      'imaging-midlands',
      `the north to mark ${ctx.ids.placer(2)} delivered`,
    );
    verify(
      ctx,
      'north',
      `delivery completed after ${attemptsOf(delivery as Task)} attempts`,
      attemptsOf(delivery as Task) >= 2,
      delivery?.input,
    );
    await theOne<ServiceRequest>(midlands, 'ServiceRequest', SYSTEMS.placerOrder, ctx.ids.placer(2));
    const tasks = await byIdentifier<Task>(midlands, 'Task', SYSTEMS.task, taskIdentifier(placed.task));
    verify(
      ctx,
      'midlands',
      `exactly one copy of ${ctx.ids.placer(2)} and of its Task`,
      tasks.length === 1,
      tasks.length,
    );
    const routed = await auditsFor(stores(ctx).hub, 'message-routed', caseId, ctx.startedAt);
    const ok = routed.filter(succeeded).length;
    verify(
      ctx,
      'national',
      `AuditEvents: ${routed.length - ok} failed attempt(s), then ${ok} delivery`,
      ok === 1 && routed.length - ok >= 1,
      routed.map((e) => e.outcome),
    );
  },
};

const northCrash: Step = {
  title: 'Fault: the north gateway is killed (SIGKILL) mid-flow and restarted; nothing is lost',
  async run(ctx) {
    const { gpClient, gp, ris } = actors(ctx);
    const t = ctx.timeline;
    const north = stores(ctx).region('north');
    const midlands = stores(ctx).region('midlands');
    const order2 = fact<PlacedOrder>(ctx, 'order2');

    // Crash the north right after it acknowledged a new order, while it is sending it on.
    const began = performance.now();
    const { resource: order3 } = await gpClient.create<ServiceRequest>(orderFor(ctx, 3), {
      correlationId: ctx.ids.caseId(3),
    });
    const acknowledged = performance.now();
    const killing = ctx.services.north.kill();
    const after = performance.now() - acknowledged;
    const how = await killing;
    t.event({
      where: 'north',
      who: 'gp-n81001',
      what: `POST ServiceRequest ${ctx.ids.placer(3)} → 201`,
      hopMs: acknowledged - began,
    });
    t.event({
      where: 'north',
      who: 'demo',
      what: `kill -9 north gateway ${formatMs(after)} after the 201, while it sends the order on (${how})`,
    });

    // Meanwhile the midlands has news for the north: RM1 accepts order 2.
    const work = (await ris.findNewTasks({ correlationId: ctx.ids.caseId(2) })).find(
      (task) => taskIdentifier(task) === taskIdentifier(order2.task),
    );
    verify(ctx, 'midlands', `ris-rm1 finds ${ctx.ids.placer(2)} in its worklist`, !!work);
    const accepted = await ris.acceptTask(work as WithId<Task>, { correlationId: ctx.ids.caseId(2) });
    t.event({ where: 'midlands', who: 'ris-rm1', what: `accepts ${ctx.ids.placer(2)} while the north is down` });
    const waiting = await awaitFailedAttempt(
      midlands,
      ctx.ids.caseId(2),
      'imaging-north',
      'the midlands to record a failed delivery to the north',
    );
    t.event({
      where: 'midlands → north',
      who: 'hub',
      what: `status update for the north pending: ${pendingReason(waiting)}`,
    });

    const restartBegan = performance.now();
    await ctx.services.north.start();
    t.event({
      where: 'north',
      who: 'demo',
      what: `north gateway restarted (pid ${ctx.services.north.pid})`,
      hopMs: performance.now() - restartBegan,
    });

    const stored = await theOne<ServiceRequest>(north, 'ServiceRequest', SYSTEMS.placerOrder, ctx.ids.placer(3));
    verify(
      ctx,
      'north',
      `order ${ctx.ids.placer(3)} survived the crash (acknowledged = durable)`,
      stored?.id === order3.id,
    );
    const copy = await awaitCopyInMidlands(ctx, 3, RECOVERY_TIMEOUT_MS);
    await awaitDelivered(
      north,
      ctx.ids.caseId(3),
      'imaging-midlands',
      `the north to mark ${ctx.ids.placer(3)} delivered`,
    );
    const routedOk = (await auditsFor(stores(ctx).hub, 'message-routed', ctx.ids.caseId(3), ctx.startedAt)).filter(
      succeeded,
    ).length;
    t.event({
      where: 'north → midlands',
      who: 'hub',
      what: `order ${ctx.ids.placer(3)} in the midlands store`,
      hopMs: stamp(copy) - stamp(order3),
    });
    // Sent before the crash but not marked sent: re-sent after the restart once its claim lapsed.
    const story =
      routedOk > 1
        ? `sent before the crash, re-sent after it (routed ${routedOk}×), repeat ignored`
        : stamp(copy) < ctx.services.north.startedAt
          ? 'sent and marked sent before the crash'
          : 'sent after the restart';
    t.event({ where: 'north → midlands', who: 'hub', what: `${ctx.ids.placer(3)}: ${story}` });
    const copies = await byIdentifier(midlands, 'ServiceRequest', SYSTEMS.placerOrder, ctx.ids.placer(3));
    verify(
      ctx,
      'midlands',
      `exactly one copy of ${ctx.ids.placer(3)}${routedOk > 1 ? ' (the repeat was recognised)' : ''}`,
      copies.length === 1,
      copies.length,
    );

    const seen = await gp.waitForTaskStatus(order2.task.id, 'accepted', RECOVERY_TIMEOUT_MS, {
      correlationId: ctx.ids.caseId(2),
    });
    t.event({
      where: 'midlands → north',
      who: 'gp-n81001',
      what: `the GP sees ${ctx.ids.placer(2)} accepted, held over the outage`,
      hopMs: stamp(seen.task) - stamp(accepted),
    });
    verify(
      ctx,
      'north',
      `${ctx.ids.placer(2)}'s Task is accepted in the north store`,
      (await north.read<Task>('Task', seen.task.id)).status === 'accepted',
    );

    // A sender marks a delivery done only after the receiver answered: give the last ones a moment.
    let unfinished: string[] = [];
    await pollUntil(
      async () => {
        unfinished = await unfinishedDeliveries(
          ctx,
          [1, 2, 3].map((n) => ctx.ids.caseId(n)),
        );
        return unfinished.length === 0 ? true : undefined;
      },
      { timeoutMs: RECOVERY_TIMEOUT_MS, what: 'every delivery to complete' },
    ).catch(() => undefined);
    verify(ctx, 'all', 'no delivery left pending or failed in any region', unfinished.length === 0, unfinished);
  },
};

async function unfinishedDeliveries(ctx: DemoContext, cases: string[]): Promise<string[]> {
  const unfinished: string[] = [];
  for (const region of REGIONS) {
    for (const caseId of cases) {
      for (const d of await deliveriesFor(stores(ctx).region(region), caseId))
        if (d.status !== 'completed') unfinished.push(`${region}: ${caseId} → ${destinationOf(d)} ${d.status}`);
    }
  }
  return unfinished;
}

export const faultSteps: Step[] = [midlandsDown, midlandsBack, northCrash];
