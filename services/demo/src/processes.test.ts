import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceSpec } from './processes.ts';
import { isPortFree, PortInUseError, ServiceProcess } from './processes.ts';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanup.splice(0)) undo();
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
function spec(script: string, port: number): ServiceSpec {
  const dir = mkdtempSync(join(tmpdir(), 'demo-proc-'));
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
  };
}

const HEALTHY = `
import { createServer } from 'node:http';
console.log('toy listening');
createServer((req, res) => res.end('{"status":"ok"}')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => { console.log('toy stopping'); process.exit(0); });
`;

async function freePort(): Promise<number> {
  const server = await listen();
  const port = server.port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a service process', () => {
  it('refuses a taken port, naming it and what it was for', async () => {
    const busy = await listen();
    expect(await isPortFree(busy.port, '127.0.0.1')).toBe(false);
    const service = new ServiceProcess(spec(HEALTHY, busy.port));
    const err = await service.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as Error).message).toContain(`port ${busy.port} on 127.0.0.1 (for the toy service) is already in use`);
    expect(service.pid).toBeUndefined();
  });

  it('starts, answers /health, stops gracefully and frees its port', async () => {
    const port = await freePort();
    const service = new ServiceProcess(spec(HEALTHY, port));
    await service.start();
    expect(service.running).toBe(true);
    expect(await service.stop()).toBe(0);
    expect(service.running).toBe(false);
    expect(service.unexpectedExit).toBeUndefined();
    expect(await isPortFree(port, '127.0.0.1')).toBe(true);
    expect(service.logTail()).toMatch(/toy listening[\s\S]*toy stopping/);
  });

  it('can be killed (SIGKILL) and started again', async () => {
    const port = await freePort();
    const service = new ServiceProcess(spec(HEALTHY, port));
    await service.start();
    const first = service.pid;
    expect(await service.kill()).toBe('SIGKILL');
    await service.start();
    expect(service.pid).not.toBe(first);
    await service.stop();
  });

  it('fails at once, with its log, when the process dies while starting', async () => {
    const port = await freePort();
    const service = new ServiceProcess(
      spec("console.error('Invalid configuration: PORT is wrong'); process.exit(3);", port),
    );
    const err = (await service.start(60_000).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/the toy service exited \(3\) on its own while starting/);
    expect(err.message).toContain('Invalid configuration: PORT is wrong');
  });
});
