import { describe, it } from 'vitest';
import { suspectedCesScenario } from './4-suspected-ces.ts';
import { connectedWorld } from './safety-world.ts';

describe('scenario 4: a suspected-CES MRI request breaches its 4-hour SLA, then a positive finding', () => {
  it('raises a breach for the provider, escalates it, and sends the CRITICAL finding to the spinal on-call team', async () => {
    const world = await connectedWorld({ safety: true });
    try {
      await suspectedCesScenario(world);
    } finally {
      await world.close();
    }
  });

  it('raises nothing with the safety layer off: the same steps fail silently', async () => {
    const world = await connectedWorld({ safety: false });
    try {
      await suspectedCesScenario(world);
    } finally {
      await world.close();
    }
  });
});
