import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { devTopology } from '@imaging/config';
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_DIR } from './deployment.ts';

/** The production topology with its addresses left out: what must match the development topology. */
function withoutAddresses(topology: unknown): unknown {
  return JSON.parse(JSON.stringify(topology), (key, value) =>
    key === 'url' || key === 'publicUrl' ? undefined : value,
  );
}

describe('topology.json', () => {
  // It drifted once (no people, no fail-safe officers, fewer scopes), and a report with an alert got a 403 in
  // the production topology only. Only the addresses may differ: inside the network and from the host.
  it('is the development topology with the production addresses', () => {
    const production = JSON.parse(readFileSync(join(TOPOLOGY_DIR, 'topology.json'), 'utf8'));
    expect(withoutAddresses(production)).toEqual(withoutAddresses(devTopology()));
  });
});
