import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortFree, PortInUseError } from './ports.ts';

/** One service run as its own process: `node <entry>` with its env, answering `/health` on host:port. */
export interface ServiceSpec {
  /** Short name for messages and the log file: `hub`, `north`… */
  name: string;
  /** What it is, for messages: `national hub`, `north gateway`. */
  label: string;
  /** The entry point (absolute path of its main.ts). */
  entry: string;
  env: Record<string, string>;
  host: string;
  port: number;
  /** Where its stdout and stderr go (appended: a restart adds to the same file). */
  logFile: string;
  /** What else to do when the port is taken, added to the error (the demo's `--port-base`). */
  portAdvice?: string;
}

/**
 * Variables the hub and the gateways read (their config.ts). A service gets only those its spec sets,
 * never the launcher's own: a PORT exported in the shell must not move every service to one port.
 */
export const SERVICE_VARIABLES: readonly string[] = [
  'REGION_ID',
  'SERVICE_ID',
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'HUB_URL',
  'GATEWAY_STORE',
  'HUB_STORE',
  'IMAGING_DATA_DIR',
  'TOKEN_AUDIENCE',
  'PAGE_TOKEN_SECRET',
  'DELIVERY_INTERVAL',
  'DELIVERY_BASE_BACKOFF',
  'DELIVERY_MAX_BACKOFF',
  'DELIVERY_LEASE',
  'DELIVERY_BATCH',
  'DELIVERY_CONCURRENCY',
  'BODY_LIMIT_BYTES',
  'TOPOLOGY_FILE',
  'DEV_CREDENTIALS',
  'CLIENT_REGISTRY',
  'TOKEN_TTL',
  'FORWARD_TIMEOUT',
];

/** Generous: four services starting at once on a busy 2-core machine have taken 25 s. */
export const START_TIMEOUT_MS = 60_000;

/**
 * A running service. `stop` is a graceful SIGTERM (the service drains and closes its store); `kill`
 * is SIGKILL (a crash). Either way the process is waited for, so its port is free again afterwards.
 */
export class ServiceProcess {
  readonly spec: ServiceSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<number | string> | undefined;
  private expectExit: () => void = () => undefined;
  /** Set when the process ended without being asked to. */
  unexpectedExit: string | undefined;
  /** When the process was last launched (ms since the epoch). */
  startedAt = 0;

  constructor(spec: ServiceSpec) {
    this.spec = spec;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get baseUrl(): string {
    return `http://${this.spec.host}:${this.spec.port}`;
  }

  /** Starts the process and waits until `/health` answers 200. */
  async start(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await this.launch();
    await this.waitHealthy(timeoutMs);
  }

  /** Checks the port is free and spawns the process (without waiting for it to be ready). */
  async launch(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.label} is already running`);
    if (!(await isPortFree(this.spec.port, this.spec.host))) throw new PortInUseError(this.spec);
    const log = openSync(this.spec.logFile, 'a');
    writeSync(log, `--- ${new Date().toISOString()} starting the ${this.spec.label} ---\n`);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env))
      if (value !== undefined && !SERVICE_VARIABLES.includes(key)) env[key] = value;
    // Node's compile cache (its default place) makes a start, and above all a restart, about a fifth cheaper.
    env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'node-compile-cache');
    const child = spawn(process.execPath, [this.spec.entry], {
      env: { ...env, ...this.spec.env },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.startedAt = Date.now();
    this.unexpectedExit = undefined;
    let expected = false;
    this.expectExit = () => {
      expected = true;
    };
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const how = signal ?? code ?? 'unknown';
        if (!expected) this.unexpectedExit = `exited (${how}) on its own`;
        resolve(how);
      });
    });
  }

  /**
   * Waits until `/health` answers 200. A process that dies meanwhile fails at once; one that does not
   * answer in time is killed. Either way the error ends with the service's log.
   */
  async waitHealthy(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    const url = `${this.baseUrl}/health`;
    const deadline = performance.now() + timeoutMs;
    let last = 'no answer';
    for (;;) {
      if (this.unexpectedExit) return this.failStart(`the ${this.spec.label} ${this.unexpectedExit} while starting`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (performance.now() >= deadline)
        return this.failStart(`the ${this.spec.label} did not answer ${url} within ${timeoutMs} ms (last: ${last})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async failStart(why: string): Promise<never> {
    await this.kill();
    throw new Error(`${why}\n${this.logTail({ indent: 4 })}`);
  }

  /** Graceful stop (SIGTERM); SIGKILL if it has not gone within `graceMs`. Returns how it ended. */
  async stop(graceMs = 5000): Promise<number | string | undefined> {
    return this.end('SIGTERM', graceMs);
  }

  /** A crash: SIGKILL, no chance to clean up. */
  async kill(): Promise<number | string | undefined> {
    return this.end('SIGKILL', 5000);
  }

  private async end(signal: NodeJS.Signals, graceMs: number): Promise<number | string | undefined> {
    const child = this.child;
    if (!child || !this.exited) return undefined;
    if (!this.running) return this.exited;
    this.expectExit();
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The last lines of the service's log, to show when something went wrong (indented under a message). */
  logTail({ lines = 15, indent = 0 }: { lines?: number; indent?: number } = {}): string {
    let tail: string[];
    try {
      const text = readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n');
      tail = [`last ${Math.min(lines, text.length)} lines of ${this.spec.logFile}:`, ...text.slice(-lines)];
    } catch {
      tail = [`(no log at ${this.spec.logFile})`];
    }
    return tail.map((line) => ' '.repeat(indent) + line).join('\n');
  }
}
