import { createWriteStream } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { jsonLogger } from '@imaging/fhir-http';
import { createApp, createDeps, loadConfig } from '@imaging/flow-view';
import type { AppDeps } from '@imaging/flow-view';
import { isPortFree } from '@imaging/service-process';
import { demoControls } from './controls.ts';
import type { DemoContext } from './steps.ts';

/** The flow view sits just below the gateways: 4100 by default. */
export const FLOW_VIEW_PORT_OFFSET = 100;

export interface RunningFlowView {
  url: string;
  stop(): Promise<void>;
}

/**
 * The flow view, served by the demo in its own process (so its buttons can stop and start the demo's gateways),
 * with its own client credentials, its overview public (the development topology only), logging to
 * logs/flow-view.log. Undefined, with why, when its port is taken: the demo goes on without it.
 */
export async function startFlowView(ctx: DemoContext): Promise<RunningFlowView | string> {
  const { host, portBase } = ctx.options;
  const port = portBase + FLOW_VIEW_PORT_OFFSET;
  if (!(await isPortFree(port, host))) return `port ${port} on ${host} is taken: the flow view is not started`;
  const log = createWriteStream(join(ctx.dataDir, 'logs', 'flow-view.log'), { flags: 'a' });
  const config = loadConfig({
    PORT: String(port),
    HOST: host,
    HUB_URL: ctx.topology.hub.url,
    IMAGING_DATA_DIR: ctx.dataDir,
    PUBLIC_OVERVIEW: 'true',
  });
  const deps: AppDeps = await createDeps(config, jsonLogger('flow-view', log), { demo: demoControls(ctx) });
  const server = serve({ fetch: createApp(deps).fetch, port, hostname: host }) as Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://${host}:${port}/`,
    stop: async () => {
      deps.live.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      log.end();
    },
  };
}
