import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil, StopPolling } from '@imaging/simulators';

/** One service the demo runs as its own process: `node services/<name>/src/main.ts` with its env. */
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
}

/** Variables the services read: never inherited from the demo's own environment, only set. */
const SERVICE_VARIABLES = [
  'REGION_ID',
  'SERVICE_ID',
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'HUB_URL',
  'STORE',
  'HUB_STORE',
  'IMAGING_DATA_DIR',
  'TOKEN_AUDIENCE',
  'PAGE_TOKEN_SECRET',
  'DELIVERY_INTERVAL',
  'DELIVERY_BASE_BACKOFF',
  'DELIVERY_MAX_BACKOFF',
  'DELIVERY_LEASE',
  'BODY_LIMIT_BYTES',
  'TOPOLOGY_FILE',
  'DEV_CREDENTIALS',
  'CLIENT_REGISTRY',
  'TOKEN_TTL',
  'FORWARD_TIMEOUT',
];

/** Generous: four services starting at once on a busy 2-core machine have taken 25 s. */
export const START_TIMEOUT_MS = 60_000;

export class PortInUseError extends Error {
  constructor(spec: Pick<ServiceSpec, 'label' | 'host' | 'port'>) {
    super(
      `port ${spec.port} on ${spec.host} (for the ${spec.label}) is already in use: stop whatever is listening there, or run the demo on other ports with --port-base <n>`,
    );
    this.name = 'PortInUseError';
  }
}

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A running service. `stop` is a graceful SIGTERM (the service drains and closes its store); `kill`
 * is SIGKILL (a crash). Either way the process is waited for, so its port is free again afterwards.
 */
export class ServiceProcess {
  readonly spec: ServiceSpec;
  private child: ChildProcess | undefined;
  private exited: Promise<number | string> | undefined;
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
    writeSync(log, `--- ${new Date().toISOString()} demo starts the ${this.spec.label} ---\n`);
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

  /** Waits until `/health` answers 200; a process that dies meanwhile fails at once, with its log. */
  async waitHealthy(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    try {
      await pollUntil(
        async () => {
          if (this.unexpectedExit)
            throw new StopPolling(`the ${this.spec.label} ${this.unexpectedExit} while starting`);
          const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
          await res.body?.cancel();
          return res.status === 200 ? true : undefined;
        },
        { timeoutMs, intervalMs: 50, what: `the ${this.spec.label} to answer ${this.baseUrl}/health` },
      );
    } catch (err) {
      await this.kill();
      throw new Error(`${(err as Error).message}\n${indent(this.logTail())}`);
    }
  }

  private expectExit: () => void = () => undefined;

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

  /** The last lines of the service's log, to show when something went wrong. */
  logTail(lines = 15): string {
    try {
      const text = readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n');
      return [`last ${Math.min(lines, text.length)} lines of ${this.spec.logFile}:`, ...text.slice(-lines)].join('\n');
    } catch {
      return `(no log at ${this.spec.logFile})`;
    }
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}
