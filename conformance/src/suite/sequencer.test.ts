import { describe, expect, it } from 'vitest';
import { orderOf } from './sequencer.ts';

describe('file order', () => {
  it('runs the pathway before the resource group that validates what it wrote', () => {
    const files = [
      '3-resource-conformance.test.ts',
      '5-actor/referrer.test.ts',
      '4-pathway.test.ts',
      '6-attack-surface.test.ts',
      '7-clinical-safety.test.ts',
      '1-store-contract.test.ts',
      '2-server-capability.test.ts',
    ].map((f) => `/repo/conformance/src/groups/${f}`);
    expect([...files].sort((a, b) => orderOf(a) - orderOf(b)).map((f) => f.split('/groups/')[1])).toEqual([
      '1-store-contract.test.ts',
      '2-server-capability.test.ts',
      '4-pathway.test.ts',
      '3-resource-conformance.test.ts',
      '5-actor/referrer.test.ts',
      '6-attack-surface.test.ts',
      '7-clinical-safety.test.ts',
    ]);
  });
});
