import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHazardLog, parseHazardLog } from './hazard-log.ts';
import { summaryIn, summaryMarkdown, withSummary } from './summary.ts';

const dir = fileURLToPath(new URL('../', import.meta.url));
const log = loadHazardLog(`${dir}hazard-log.yaml`);

describe('the hazard summary in safety/README.md', () => {
  it('is the one the hazard log makes (run `node safety/src/summary.ts` to rewrite it)', () => {
    expect(summaryIn(readFileSync(`${dir}README.md`, 'utf8'))).toBe(summaryMarkdown(log));
  });

  it('changes with the log: a hazard whose residual risk changes shows it', () => {
    const text = readFileSync(`${dir}hazard-log.yaml`, 'utf8').replace(
      'residual: { severity: major, likelihood: very low, risk: 2 }',
      'residual: { severity: major, likelihood: low, risk: 3 }',
    );
    const changed = summaryMarkdown(parseHazardLog(text));
    expect(changed).not.toBe(summaryMarkdown(log));
    expect(changed.split('\n')[2]).toMatch(/^\| HAZ-001 .*\| 3 \(major × low\) +\|$/);
    const readme = withSummary(readFileSync(`${dir}README.md`, 'utf8'), changed);
    expect(summaryIn(readme)).toBe(changed);
  });
});
