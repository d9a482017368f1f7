import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ephemeralPortsFrom, freePort, freePortBase, isPortFree, PortInUseError } from './ports.ts';
import type { ServiceSpec } from './service-process.ts';
import { ServiceProcess } from './service-process.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

function listen(): Promise<Server & { port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      cleanup.push(() => server.close());
      resolve(Object.assign(server, { port: (server.address() as { port: number }).port }));
    });
  });
}

/** A tiny "service": a script given as text, run like the real ones. */
function spec(script: string, port: number, extra: Partial<ServiceSpec> = {}): ServiceSpec {
  const dir = mkdtempSync(join(tmpdir(), 'service-process-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.mjs'), script);
  return {
    name: 'toy',
    label: 'toy service',
    entry: join(dir, 'main.mjs'),
    env: { PORT: String(port) },
    host: '127.0.0.1',
    port,
    logFile: join(dir, 'toy.log'),
    ...extra,
  };
}

/** A service that runs until the test is over, whatever happens in it. */
function service(s: ServiceSpec): ServiceProcess {
  const process = new ServiceProcess(s);
  cleanup.push(() => process.kill());
  return process;
}

const HEALTHY = `
import { createServer } from 'node:http';
console.log('toy listening');
createServer((req, res) => res.end(JSON.stringify({ status: 'ok', env: process.env }))).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { console.log('toy stopping'); process.exit(0); });
`;

describe('a service process', () => {
  it('refuses a taken port, naming it, what it was for and what else to do', async () => {
    const busy = await listen();
    expect(await isPortFree(busy.port, '127.0.0.1')).toBe(false);
    const toy = service(spec(HEALTHY, busy.port, { portAdvice: 'or choose other ports with --port-base <n>' }));
    const err = await toy.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toBe(
      `port ${busy.port} on 127.0.0.1 (for the toy service) is already in use: stop whatever is listening there, or choose other ports with --port-base <n>`,
    );
    expect(toy.pid).toBeUndefined();
  });

  it('starts, answers /health, stops gracefully and frees its port', async () => {
    const port = await freePort();
    const toy = service(spec(HEALTHY, port));
    await toy.start();
    expect(toy.running).toBe(true);
    expect(await toy.stop()).toBe(0);
    expect(toy.running).toBe(false);
    expect(toy.unexpectedExit).toBeUndefined();
    expect(await isPortFree(port, '127.0.0.1')).toBe(true);
    expect(toy.logTail()).toMatch(/starting the toy service[\s\S]*toy listening[\s\S]*toy stopping/);
  });

  it("gets the variables its spec sets and none of the launcher's service variables", async () => {
    const port = await freePort();
    vi.stubEnv('HUB_URL', 'http://launcher.example');
    vi.stubEnv('IMAGING_UNRELATED', 'kept');
    cleanup.push(() => vi.unstubAllEnvs());
    const toy = service(spec(HEALTHY, port, { env: { PORT: String(port), REGION_ID: 'north' } }));
    await toy.start();
    const { env } = (await (await fetch(`${toy.baseUrl}/health`)).json()) as { env: Record<string, string> };
    expect(env).toMatchObject({ PORT: String(port), REGION_ID: 'north', IMAGING_UNRELATED: 'kept' });
    expect(env.HUB_URL).toBeUndefined();
  });

  it('can be killed (SIGKILL) and started again', async () => {
    const port = await freePort();
    const toy = service(spec(HEALTHY, port));
    await toy.start();
    const first = toy.pid;
    expect(await toy.kill()).toBe('SIGKILL');
    await toy.start();
    expect(toy.pid).not.toBe(first);
    await toy.stop();
  });

  it('fails at once, with its log, when the process dies while starting', async () => {
    const port = await freePort();
    const toy = service(spec("console.error('Invalid configuration: PORT is wrong'); process.exit(3);", port));
    const err = (await toy.start(60_000).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/the toy service exited \(3\) on its own while starting/);
    expect(err.message).toContain('    Invalid configuration: PORT is wrong');
  });

  it('is killed, and says so with its log, when /health does not answer 200 in time', async () => {
    const port = await freePort();
    const unready = `
      import { createServer } from 'node:http';
      createServer((req, res) => { res.statusCode = 503; res.end(); })
        .listen(Number(process.env.PORT), '127.0.0.1', () => console.log('toy still migrating'));
    `;
    const toy = service(spec(unready, port));
    await toy.launch();
    // Once it listens, every probe gets 503 until the time is up.
    while (!readFileSync(toy.spec.logFile, 'utf8').includes('toy still migrating'))
      await new Promise((resolve) => setTimeout(resolve, 20));
    const err = (await toy.waitHealthy(200).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(
      `the toy service did not answer http://127.0.0.1:${port}/health within 200 ms (last: HTTP 503)`,
    );
    expect(err.message).toContain('    toy still migrating');
    expect(toy.running).toBe(false);
    expect(toy.unexpectedExit).toBeUndefined();
  });
});

describe('freePort', () => {
  it('gives a port free now, below the ports the system hands out to outgoing connections', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralPortsFrom());
      expect(await isPortFree(port)).toBe(true);
    }
  });
});

describe('freePortBase', () => {
  it('gives a base where every offset is free now', async () => {
    const offsets = [0, 100, 101, 102, 103];
    const base = await freePortBase(offsets);
    expect(base).toBeGreaterThanOrEqual(10_000);
    for (const offset of offsets) expect(await isPortFree(base + offset)).toBe(true);
  });

  it('stays below the ports the system hands out to outgoing connections, where nothing but a listener takes one', async () => {
    const offsets = [0, 100, 101, 102, 103];
    expect(ephemeralPortsFrom()).toBeGreaterThan(10_000 + 103);
    for (let i = 0; i < 20; i++) {
      const base = await freePortBase(offsets);
      expect(base + 103).toBeLessThan(ephemeralPortsFrom());
    }
  });
});
