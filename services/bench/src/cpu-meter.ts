import { cpuTimeMs } from '@imaging/service-process';
import type { BenchService, BenchTopology } from './topology.ts';

/**
 * CPU milliseconds (user + system), all on the machine's shared cores: each service's, this process's
 * (the clients, and the counting proxy of the HAPI suite) and, when it runs here, a server's (HAPI's
 * process; not its database's).
 */
export interface CpuSpent {
  services: Record<BenchService, number>;
  bench: number;
  server?: number;
}

/** Reads the CPU spent so far, and what was spent per order since an earlier reading. */
export function cpuMeter(world: BenchTopology, serverPid?: number) {
  const now = (): CpuSpent => {
    const seconds = world.cpuSeconds();
    const own = process.cpuUsage();
    const server = serverPid === undefined ? undefined : cpuTimeMs(serverPid);
    return {
      services: { hub: seconds.hub * 1000, north: seconds.north * 1000, midlands: seconds.midlands * 1000 },
      bench: (own.user + own.system) / 1000,
      ...(server === undefined ? {} : { server }),
    };
  };
  return {
    now,
    perOrderSince(before: CpuSpent, orders: number): CpuSpent {
      const after = now();
      const per = (a: number, b: number) => (a - b) / Math.max(1, orders);
      return {
        services: {
          hub: per(after.services.hub, before.services.hub),
          north: per(after.services.north, before.services.north),
          midlands: per(after.services.midlands, before.services.midlands),
        },
        bench: per(after.bench, before.bench),
        ...(after.server !== undefined && before.server !== undefined
          ? { server: per(after.server, before.server) }
          : {}),
      };
    },
  };
}
