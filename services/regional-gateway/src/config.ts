import { env, loadEnv } from '@imaging/config';
import type { EnvSource } from '@imaging/config';
import { z } from 'zod';

/** The gateway's environment. One process serves one region; which one comes from here. */
export const GatewayEnvSchema = z.object({
  REGION_ID: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a region id such as north'),
  /** The id the router knows this gateway by; defaults to imaging-<region>. */
  SERVICE_ID: z.string().min(1).optional(),
  PORT: env.port(4101),
  HOST: z.string().default('127.0.0.1'),
  /** The gateway's public base URL (without /fhir); defaults to http://HOST:PORT. */
  PUBLIC_URL: env.url().optional(),
  HUB_URL: env.url().default('http://127.0.0.1:4000'),
  /** A file path for the embedded store, or an http(s) FHIR base (HAPI) for the HTTP store. */
  GATEWAY_STORE: z.string().min(1).optional(),
  /** Where dev keys and embedded stores live (git-ignored). */
  IMAGING_DATA_DIR: z.string().optional(),
  TOKEN_AUDIENCE: z.string().default('imaging-connect'),
  /** Encrypts and signs page links; replicas must share it. Default: a secret made once in the data dir. */
  PAGE_TOKEN_SECRET: z.string().min(16).optional(),
  /** How long a page link stays good. */
  PAGE_TOKEN_TTL: env.duration('15m').refine((ms) => ms >= 1000 && ms <= 86_400_000, 'between 1s and 24h'),
  DELIVERY_INTERVAL: env.duration('500ms'),
  DELIVERY_BASE_BACKOFF: env.duration('1s'),
  DELIVERY_MAX_BACKOFF: env.duration('60s'),
  DELIVERY_LEASE: env.duration('30s'),
  /** Open deliveries one pass reads and claims (in one transaction). */
  DELIVERY_BATCH: z.coerce.number().int().min(1).max(1000).default(200),
  /** Sends in flight at once, each to a different destination or about a different patient. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export type GatewayConfig = z.infer<typeof GatewayEnvSchema>;

/** The gateway's configuration; a ConfigError listing every bad variable. */
export function loadConfig(source: EnvSource = process.env): GatewayConfig {
  return loadEnv(GatewayEnvSchema, source);
}
