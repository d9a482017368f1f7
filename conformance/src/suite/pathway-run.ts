import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the pathway group leaves for the resource group: when it started, on which server. */
export interface PathwayRun {
  startedAt: string;
  root: string;
  passed: boolean;
}

const file = (workDir: string) => join(workDir, 'pathway-run.json');

export function writePathwayRun(workDir: string, run: PathwayRun): void {
  writeFileSync(file(workDir), `${JSON.stringify(run, null, 2)}\n`);
}

export function readPathwayRun(workDir: string): PathwayRun | undefined {
  return existsSync(file(workDir)) ? (JSON.parse(readFileSync(file(workDir), 'utf8')) as PathwayRun) : undefined;
}
