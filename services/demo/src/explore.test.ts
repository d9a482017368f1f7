import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explorationGuide, fromRepoRoot } from './explore.ts';
import type { DemoContext } from './steps.ts';
import { demoTopology, REPO_ROOT, runIds } from './world.ts';

function context(dataDir: string, scenario: boolean): DemoContext {
  const options = { explore: true, scenario, portBase: 4000, dataDir, host: '127.0.0.1' };
  return { options, topology: demoTopology(options), dataDir, ids: runIds() } as DemoContext;
}

describe('what --explore prints', () => {
  it('gives paths from the repo root when the data dir is in it, else as they are', () => {
    expect(fromRepoRoot(join(REPO_ROOT, '.data/demo'))).toBe('.data/demo');
    expect(fromRepoRoot('/tmp/elsewhere')).toBe('/tmp/elsewhere');
    expect(fromRepoRoot(REPO_ROOT)).toBe(REPO_ROOT);
  });

  it('prints npm commands only, with the data dir and topology as typed from the repo root', () => {
    const text = explorationGuide(context(join(REPO_ROOT, '.data/demo'), true));
    expect(text).toContain('export IMAGING_DATA_DIR=.data/demo IMAGING_TOPOLOGY=.data/demo/topology.json');
    for (const client of ['gp-n81001', 'ris-rm1', 'clinician-rs1'])
      expect(text).toContain(`TOKEN=$(npm run -s token -- ${client})`);
    expect(text).not.toContain('pnpm');
    expect(text).toContain('docs/api.md');
  });

  it("leaves out the scenario's own report and patient when no scenario ran", () => {
    const ctx = context('/tmp/explore', false);
    const text = explorationGuide(ctx);
    expect(text).toContain('export IMAGING_DATA_DIR=/tmp/explore IMAGING_TOPOLOGY=/tmp/explore/topology.json');
    expect(text).not.toContain(ctx.ids.nhsNumber);
    expect(text).not.toContain('clinician-rs1');
    expect(text).toContain('curl -s -H "Authorization: Bearer $TOKEN" \'http://127.0.0.1:4101/fhir/Task?_count=5\'');
  });

  it('gives the flow view and its token when the flow view runs', () => {
    const ctx = context('/tmp/explore', false);
    expect(explorationGuide(ctx)).not.toContain('flow-view');
    ctx.flowView = { url: 'http://127.0.0.1:4100/', stop: async () => undefined };
    const text = explorationGuide(ctx);
    expect(text).toContain('flow view         http://127.0.0.1:4100/');
    expect(text).toContain('TOKEN=$(npm run -s token -- flow-view)');
  });
});
