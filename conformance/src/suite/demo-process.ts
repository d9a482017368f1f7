import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePortBase } from '@imaging/demo/world';
import { REPO_ROOT } from '../server/hapi-jar.ts';

export interface DemoOutcome {
  exitCode: number | null;
  /** The demo's last line: `demo: <passed>/<total> steps passed`. */
  summary: string | undefined;
  passed: number;
  total: number;
  /** One line per step: `step n/N … ✓|✗`. */
  stepLines: string[];
  /** The run's business identifiers, as the demo printed them. */
  ids?: { nhsNumber: string; placer: string };
  startedAt: string;
  logFile: string;
  /** The end of the output, for a failure message. */
  tail: string;
}

export interface DemoOptions {
  hapiRoot: string;
  dataDir: string;
  timeoutMs: number;
}

/** Runs `pnpm demo --hapi <root>` (its main.ts, with this Node) and reads its transcript. */
export async function runDemo(options: DemoOptions): Promise<DemoOutcome> {
  mkdirSync(options.dataDir, { recursive: true });
  const logFile = join(options.dataDir, '..', 'demo-output.log');
  const portBase = await freePortBase();
  const startedAt = new Date(Date.now() - 1_000).toISOString();
  const args = [
    join(REPO_ROOT, 'services/demo/src/main.ts'),
    '--hapi',
    options.hapiRoot,
    '--port-base',
    String(portBase),
    '--data-dir',
    options.dataDir,
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile);
  let output = '';
  const take = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    log.write(chunk);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearTimeout(timer);
  await new Promise<void>((resolve) => log.end(() => resolve()));
  return { ...readTranscript(output), exitCode, startedAt, logFile };
}

/** What the demo's output says (its format: services/demo/src/timeline.ts and main.ts). */
export function readTranscript(output: string): Omit<DemoOutcome, 'exitCode' | 'startedAt' | 'logFile'> {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes
  const lines = output.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
  const summaryLine = [...lines].reverse().find((l) => /^demo: \d+\/\d+ steps passed/.test(l));
  const m = summaryLine ? /^demo: (\d+)\/(\d+)/.exec(summaryLine) : null;
  const nhsNumber = /NHS number (\d{10})/.exec(output)?.[1];
  const placer = /orders ([A-Z0-9]+-\d+-1)/.exec(output)?.[1];
  return {
    summary: summaryLine?.trim(),
    passed: Number(m?.[1] ?? 0),
    total: Number(m?.[2] ?? 0),
    stepLines: stepsOf(lines),
    ...(nhsNumber && placer ? { ids: { nhsNumber, placer } } : {}),
    tail: lines.slice(-40).join('\n'),
  };
}

/** `step n/N <verdict> <title> (<time>[: why])`, from the demo's heading and result lines. */
function stepsOf(lines: string[]): string[] {
  const titles = new Map<string, string>();
  const steps: string[] = [];
  for (const line of lines) {
    const heading = /── step (\d+\/\d+): (.*?) ─+\s*$/.exec(line);
    if (heading) {
      titles.set(heading[1] as string, heading[2] as string);
      continue;
    }
    const result = /\bstep (\d+\/\d+) (\S+) in (\S+(?: \S+)?)(?:: (.*))?$/.exec(line);
    if (result)
      steps.push(
        `step ${result[1]} ${result[2]} ${titles.get(result[1] as string) ?? ''} (${result[3]}${result[4] ? `: ${result[4]}` : ''})`,
      );
  }
  return steps;
}
