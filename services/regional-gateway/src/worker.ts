import { deliverDue } from './domain/delivery.ts';
import type { DeliveryPass } from './domain/delivery.ts';
import type { GatewayDeps } from './domain/ports.ts';

export interface DeliveryWorker {
  /** Run a pass now (after a change queued a delivery) instead of waiting for the next tick. */
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Runs delivery passes every `intervalMs`, one at a time. Its only state is the timer: what to
 * deliver is read from the store on every pass, so a restarted or second replica picks up where
 * this one stopped.
 */
export function startDeliveryWorker(deps: GatewayDeps, intervalMs: number): DeliveryWorker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const pass = async (): Promise<void> => {
    try {
      const result: DeliveryPass = await deliverDue(deps);
      if (result.delivered || result.failed) deps.logger.info('delivery pass', { ...result });
    } catch (err) {
      deps.logger.error('delivery pass failed', { error: err instanceof Error ? err.stack : String(err) });
    }
  };

  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true; // a change arrived mid-pass: go round once more
      return;
    }
    clearTimeout(timer);
    running = pass().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      } else if (!stopped) timer = setTimeout(run, intervalMs);
    });
  };

  timer = setTimeout(run, intervalMs);
  return {
    wake: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
