import { join } from 'node:path';
import { ServiceProcess } from '@imaging/service-process';
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

/**
 * Our regional gateway as a real process (`services/regional-gateway/src/main.ts`), on 127.0.0.1, with
 * its own embedded store, trusting the suite's hub. Delivery is brisk so a test does not wait on backoff.
 */
export class GatewayProcess extends ServiceProcess {
  constructor(gateway: GatewaySpec) {
    super({
      name: gateway.regionId,
      label: `${gateway.regionId} gateway`,
      entry: join(REPO_ROOT, 'services/regional-gateway/src/main.ts'),
      host: '127.0.0.1',
      port: gateway.port,
      logFile: gateway.logFile,
      env: {
        REGION_ID: gateway.regionId,
        SERVICE_ID: gateway.serviceId,
        PORT: String(gateway.port),
        HOST: '127.0.0.1',
        HUB_URL: gateway.hubUrl,
        GATEWAY_STORE: gateway.storeFile,
        IMAGING_DATA_DIR: gateway.keysDir,
        DELIVERY_INTERVAL: '200ms',
        DELIVERY_BASE_BACKOFF: '250ms',
        DELIVERY_MAX_BACKOFF: '2s',
        DELIVERY_LEASE: '5s',
      },
    });
  }

  /** SIGTERM (the gateway drains and closes its store), SIGKILL after 10 s. */
  override stop(graceMs = 10_000): Promise<number | string | undefined> {
    return super.stop(graceMs);
  }
}
