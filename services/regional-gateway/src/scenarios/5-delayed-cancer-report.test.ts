import { describe, it } from 'vitest';
import { delayedCancerReportScenario } from './5-delayed-cancer-report.ts';
import { connectedWorld } from './safety-world.ts';

describe('scenario 5: an urgent suspected-cancer report is delayed past its due time', () => {
  it('raises a breach on the study for the provider and escalates it until the report is issued', async () => {
    const world = await connectedWorld({ safety: true });
    try {
      await delayedCancerReportScenario(world);
    } finally {
      await world.close();
    }
  });

  it('raises nothing with the safety layer off: the same steps fail silently', async () => {
    const world = await connectedWorld({ safety: false });
    try {
      await delayedCancerReportScenario(world);
    } finally {
      await world.close();
    }
  });
});
