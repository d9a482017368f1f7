import { env, loadEnv } from '@imaging/config';
import type { EnvSource } from '@imaging/config';
import { z } from 'zod';

/** The flow view's environment: where the hub is, who the view is, and whether its overview is public. */
export const FlowViewEnvSchema = z.object({
  PORT: env.port(4100),
  HOST: z.string().default('127.0.0.1'),
  /** The hub: its directory names the gateways, its token endpoint gives the view its token. */
  HUB_URL: env.url().default('http://127.0.0.1:4000'),
  /** The view's own client, registered with the hub with scope flow/events flow/case (and the directory's). */
  CLIENT_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a client id such as flow-view')
    .default('flow-view'),
  /** Where the client's key is (dev keys are made by the demo or the hub under <data dir>/keys/). */
  IMAGING_DATA_DIR: z.string().optional(),
  /** Show the live overview (no patient data) without a token: for the development topology only. */
  PUBLIC_OVERVIEW: env.bool(false),
  TOKEN_AUDIENCE: z.string().default('imaging-connect'),
});

export type FlowViewConfig = z.infer<typeof FlowViewEnvSchema>;

export function loadConfig(source: EnvSource = process.env): FlowViewConfig {
  return loadEnv(FlowViewEnvSchema, source);
}
