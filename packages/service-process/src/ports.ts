import { readFileSync } from 'node:fs';
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

/**
 * A port free now on host, for a service started right after: below the range the system hands out by
 * itself, for the reason freePortBase gives.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return freePortBase([0], host);
}

/**
 * The lowest port the system hands out by itself, for outgoing connections and `listen(0)` (Linux's
 * ip_local_port_range, 32768 by default).
 */
export function ephemeralPortsFrom(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const LOWEST_BASE = 10_000;

/**
 * A port base such that base + each offset is free now on host: for a topology whose services sit at fixed
 * offsets from one base (the demo's hub at +0, flow view at +100, gateways at +101..+103).
 *
 * The ports lie below the range the system hands out by itself. Between this check and the services
 * binding them, a port in that range can be taken by any outgoing connection on the machine (a parallel
 * test's HTTP client, say), and the service then fails to start; below it, only a listener can.
 */
export async function freePortBase(offsets: readonly number[], host = '127.0.0.1'): Promise<number> {
  const span = ephemeralPortsFrom() - LOWEST_BASE - Math.max(0, ...offsets);
  for (let tries = 0; tries < 50; tries++) {
    // A system whose own range starts too low to leave room keeps the earlier, wider choice.
    const base =
      span >= 1_000 ? LOWEST_BASE + Math.floor(Math.random() * span) : 20_000 + Math.floor(Math.random() * 40_000);
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
