import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../server/hapi-jar.ts';

export interface GatewaySpec {
  regionId: string;
  serviceId: string;
  port: number;
  hubUrl: string;
  /** Holds the dev keys (the gateway's private key for its hub client). */
  keysDir: string;
  /** The gateway's embedded store (a file). */
  storeFile: string;
  logFile: string;
}

/** Variables a gateway reads: set from the spec, never inherited from the suite's environment. */
const GATEWAY_VARIABLES = [
  'REGION_ID',
  'SERVICE_ID',
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'HUB_URL',
  'GATEWAY_STORE',
  'IMAGING_DATA_DIR',
  'TOKEN_AUDIENCE',
  'PAGE_TOKEN_SECRET',
  'DELIVERY_INTERVAL',
  'DELIVERY_BASE_BACKOFF',
  'DELIVERY_MAX_BACKOFF',
  'DELIVERY_LEASE',
  'BODY_LIMIT_BYTES',
];

/**
 * Our regional gateway as a real process (`services/regional-gateway/src/main.ts`), on 127.0.0.1, with
 * its own embedded store, trusting the suite's hub. Delivery is brisk so a test does not wait on backoff.
 */
export class GatewayProcess {
  readonly spec: GatewaySpec;
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private unexpected: string | undefined;

  constructor(spec: GatewaySpec) {
    this.spec = spec;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  get fhirBase(): string {
    return `${this.baseUrl}/fhir`;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !GATEWAY_VARIABLES.includes(k)) env[k] = v;
    Object.assign(env, {
      REGION_ID: this.spec.regionId,
      SERVICE_ID: this.spec.serviceId,
      PORT: String(this.spec.port),
      HOST: '127.0.0.1',
      HUB_URL: this.spec.hubUrl,
      GATEWAY_STORE: this.spec.storeFile,
      IMAGING_DATA_DIR: this.spec.keysDir,
      DELIVERY_INTERVAL: '200ms',
      DELIVERY_BASE_BACKOFF: '250ms',
      DELIVERY_MAX_BACKOFF: '2s',
      DELIVERY_LEASE: '5s',
    });
    const log = openSync(this.spec.logFile, 'a');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'services/regional-gateway/src/main.ts')], {
      env,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.unexpected ??= `exited (${signal ?? code})`;
        resolve();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.unexpected)
        throw new Error(`the ${this.spec.regionId} gateway ${this.unexpected} while starting\n${this.logTail()}`);
      try {
        const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(
          `the ${this.spec.regionId} gateway did not answer ${this.baseUrl}/health within ${timeoutMs / 1000} s\n${this.logTail()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM (the gateway drains and closes its store), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.exited) return;
    if (child.exitCode === null && child.signalCode === null) {
      this.unexpected = 'stopped by the suite';
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  logTail(lines = 20): string {
    try {
      const text = readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n');
      return [`last lines of ${this.spec.logFile}:`, ...text.slice(-lines)].join('\n');
    } catch {
      return `(no log at ${this.spec.logFile})`;
    }
  }
}
