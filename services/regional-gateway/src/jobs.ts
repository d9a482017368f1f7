import { startJob } from '@imaging/fhir-http';
import type { Job } from '@imaging/fhir-http';
import { deliverDue, markUnmarkedDeliveries } from './domain/delivery.ts';
import type { GatewayDeps } from './domain/ports.ts';

export interface GatewayJobs {
  delivery: Job;
  stop(): Promise<void>;
}

/** The gateway's background work: delivering the outbox. Every pass reads what is due from the store. */
export function startJobs(deps: GatewayDeps, settings: { deliveryIntervalMs: number }): GatewayJobs {
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
  return { delivery, stop: () => delivery.stop() };
}
