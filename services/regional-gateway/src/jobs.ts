import { startJob } from '@imaging/fhir-http';
import type { Job } from '@imaging/fhir-http';
import { deliverDue, markUnmarkedDeliveries } from './domain/delivery.ts';
import type { GatewayDeps } from './domain/ports.ts';
import { releaseOutboxLease } from './domain/outbox-lease.ts';
import { runSafetyPass } from './domain/safety.ts';

export interface GatewayJobs {
  delivery: Job;
  safety: Job;
  stop(): Promise<void>;
}

export interface JobSettings {
  deliveryIntervalMs: number;
  /** How often the safety job looks for overdue alerts and turnaround times (SAFETY_INTERVAL). */
  safetyIntervalMs: number;
}

/**
 * The gateway's background work: delivering the outbox, and the safety job that escalates overdue
 * alerts, tells patients, and raises and escalates turnaround breaches. Every pass reads what is due
 * from the store.
 */
export function startJobs(deps: GatewayDeps, settings: JobSettings): GatewayJobs {
  let marked = false;
  const delivery = startJob({
    name: 'delivery pass',
    intervalMs: settings.deliveryIntervalMs,
    logger: deps.logger,
    run: async () => {
      if (!marked) {
        const count = await markUnmarkedDeliveries(deps);
        if (count) deps.logger.info('open deliveries from an earlier version marked for the poll', { count });
        marked = true;
      }
      const result = await deliverDue(deps);
      if (result.delivered || result.failed) deps.logger.info('delivery pass', { ...result });
    },
  });
  const safety = startJob({
    name: 'safety pass',
    intervalMs: settings.safetyIntervalMs,
    logger: deps.logger,
    run: async () => {
      const result = await runSafetyPass(deps);
      const { alerts, turnaround } = result ?? {};
      if (alerts && (alerts.escalated || alerts.notified || alerts.raced || alerts.failed))
        deps.logger.info('safety pass', { ...alerts });
      if (turnaround && Object.values(turnaround).some((n) => n > 0))
        deps.logger.info('turnaround pass', { ...turnaround });
    },
  });
  // Once no pass runs, the outbox lease is given up, so another replica (or this gateway restarted)
  // sends at once instead of waiting for it to lapse.
  const stopDelivery = async () => {
    await delivery.stop();
    await releaseOutboxLease(deps).catch((err: unknown) =>
      deps.logger.warn('could not give up the outbox lease; it will lapse', { error: String(err) }),
    );
  };
  return { delivery, safety, stop: async () => void (await Promise.all([stopDelivery(), safety.stop()])) };
}
