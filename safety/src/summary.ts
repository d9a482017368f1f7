import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { HazardLog, RiskAssessment } from './hazard-log.ts';
import { loadHazardLog } from './hazard-log.ts';

/**
 * The hazard log's summary table in safety/README.md, made from the log so it cannot drift from it:
 * summary.test.ts fails when the README's copy differs, and `node safety/src/summary.ts` rewrites it.
 */
export const SUMMARY_START = '<!-- hazard-summary: made by safety/src/summary.ts from hazard-log.yaml -->';
export const SUMMARY_END = '<!-- /hazard-summary -->';

const risk = (r: RiskAssessment) => `${r.risk} (${r.severity} × ${r.likelihood})`;

export function summaryMarkdown(log: HazardLog): string {
  const rows = log.hazards.map((h) => {
    const tests = h.controls.reduce((n, c) => n + c.tests.length, 0);
    return [h.id, h.title, risk(h.initial), `${h.controls.length} (${tests} tests)`, risk(h.residual)];
  });
  const table = [['hazard', 'title', 'initial risk', 'controls', 'residual risk'], ...rows];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((r) => [...(r[i] ?? '')].length))) ?? [];
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const [head, ...body] = table;
  return [line(head ?? []), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...body.map(line)].join('\n');
}

/** The README's summary section, between its markers (undefined when the markers are missing). */
export function summaryIn(readme: string): string | undefined {
  const start = readme.indexOf(SUMMARY_START);
  const end = readme.indexOf(SUMMARY_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + SUMMARY_START.length, end).trim();
}

export function withSummary(readme: string, summary: string): string {
  const start = readme.indexOf(SUMMARY_START);
  const end = readme.indexOf(SUMMARY_END);
  if (start < 0 || end < start) throw new Error(`the README has no ${SUMMARY_START} … ${SUMMARY_END} section`);
  return `${readme.slice(0, start + SUMMARY_START.length)}\n\n${summary}\n\n${readme.slice(end)}`;
}

if (import.meta.main) {
  const dir = fileURLToPath(new URL('../', import.meta.url));
  const readme = `${dir}README.md`;
  writeFileSync(
    readme,
    withSummary(readFileSync(readme, 'utf8'), summaryMarkdown(loadHazardLog(`${dir}hazard-log.yaml`))),
  );
}
