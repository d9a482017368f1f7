import { purgeAssertionRecords } from '@imaging/auth';
import { systemClock } from '@imaging/fhir';
import { startJob } from '@imaging/fhir-http';
import type { Job } from '@imaging/fhir-http';
import type { AppDeps } from './deps.ts';

export interface HubJobs {
  purgeAssertions: Job;
  stop(): Promise<void>;
}

/** Used client assertions only matter for five minutes; older records are cleared every 6 h (and at start). */
export const PURGE_INTERVAL_MS = 6 * 3_600_000;

/** The hub's background work. Every pass reads what to do from the store. */
export function startJobs(deps: AppDeps, settings: { purgeIntervalMs?: number } = {}): HubJobs {
  const clock = deps.clock ?? systemClock;
  const purgeAssertions = startJob({
    name: 'purging used client assertions',
    intervalMs: settings.purgeIntervalMs ?? PURGE_INTERVAL_MS,
    logger: deps.logger,
    run: async () => {
      const deleted = await purgeAssertionRecords(deps.store, clock.now());
      if (deleted) deps.logger.info('purged used client assertions', { deleted });
    },
  });
  purgeAssertions.wake();
  return { purgeAssertions, stop: () => purgeAssertions.stop() };
}
