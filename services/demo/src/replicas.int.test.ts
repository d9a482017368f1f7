import { describe, it } from 'vitest';
import { expectEachStepOnce, raceEscalationOnTwoReplicas } from './replicas.ts';

describe('two north gateway processes on one embedded store', () => {
  it('escalate each step of a CRITICAL alert exactly once between them', async () => {
    const race = await raceEscalationOnTwoReplicas();
    expectEachStepOnce(race);
    // Which replica did what varies run to run: said, not asserted (the no-duplicate checks hold either way).
    console.info('replica shares', JSON.stringify(race.replicas));
  });
});
