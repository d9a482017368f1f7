import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortBase } from '@imaging/service-process';

/**
 * The real demo with `--explore`, as the browser test and the benchmark use it: the hub and three gateways as
 * processes on free ports, in a temporary data dir, the reference scenario run, then the flow view served
 * with its buttons. Resolves once the scenario has passed; `stop` ends every process (Ctrl-C) and the dir.
 */
export interface DemoRun {
  /** The flow view's URL (`http://127.0.0.1:<port>/`). */
  viewUrl: string;
  hubUrl: string;
  dataDir: string;
  /** Everything the demo printed. */
  output(): string;
  stop(): Promise<void>;
}

const DEMO = join(import.meta.dirname, '../../../demo/src/main.ts');

export async function startDemoRun(timeoutMs = 240_000): Promise<DemoRun> {
  // The demo's hub (+0), flow view (+100) and gateways (+101..+103).
  const portBase = await freePortBase([0, 100, 101, 102, 103]);
  const dataDir = mkdtempSync(join(tmpdir(), 'imaging-flow-view-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [DEMO, '--explore', '--port-base', String(portBase), '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // The scenario runs (and takes regions down) first: the view is for driving once it has finished.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the demo did not finish its scenario in time:\n${output}`)),
        timeoutMs,
      );
      const check = () => {
        const summary = /^demo: (\d+)\/(\d+) steps passed$/m.exec(output);
        if (!summary) return;
        clearTimeout(timer);
        child.stdout?.off('data', check);
        if (summary[1] === summary[2] && /^flow view: http/m.test(output)) resolve();
        else reject(new Error(`the demo failed:\n${output}`));
      };
      child.stdout?.on('data', check);
      child.once('exit', () => reject(new Error(`the demo exited:\n${output}`)));
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    viewUrl: /^flow view: (http:\/\/\S+)/m.exec(output)?.[1] as string,
    hubUrl: `http://127.0.0.1:${portBase}`,
    dataDir,
    output: () => output,
    stop,
  };
}
