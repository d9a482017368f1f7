import { createServer } from 'node:net';
import type { ServiceSpec } from './service-process.ts';

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the system has just handed out on host, free again: for a service started right after. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port base such that base + each offset is free now on host: for a topology whose services sit at fixed
 * offsets from one base (the demo's hub at +0, flow view at +100, gateways at +101..+103).
 */
export async function freePortBase(offsets: readonly number[], host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await Promise.all(offsets.map((offset) => isPortFree(base + offset, host)))).every(Boolean)) return base;
  }
  throw new Error(`no port base found with ports +${offsets.join(', +')} free on ${host}`);
}

export class PortInUseError extends Error {
  constructor(spec: Pick<ServiceSpec, 'label' | 'host' | 'port' | 'portAdvice'>) {
    const advice = spec.portAdvice ? `, ${spec.portAdvice}` : '';
    super(
      `port ${spec.port} on ${spec.host} (for the ${spec.label}) is already in use: stop whatever is listening there${advice}`,
    );
    this.name = 'PortInUseError';
  }
}
