import { env, loadEnv } from '@imaging/config';
import type { EnvSource } from '@imaging/config';
import { z } from 'zod';

/** The hub's environment. Every variable has a default that runs the development topology on 127.0.0.1. */
export const HubEnvSchema = z.object({
  PORT: env.port(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** The hub's public base URL (without /fhir): the `iss` of its tokens. Defaults to http://HOST:PORT. */
  PUBLIC_URL: env.url().optional(),
  /** A file path for the embedded store, or an http(s) FHIR base (HAPI, e.g. http://127.0.0.1:8080/fhir/hub). */
  HUB_STORE: env.store().optional(),
  /** A topology JSON file (see @imaging/config); default: the development topology. */
  TOPOLOGY_FILE: z.string().min(1).optional(),
  /** Where dev keys, the client registry and the embedded store live (git-ignored). */
  IMAGING_DATA_DIR: z.string().min(1).optional(),
  /** Make missing dev keys and rewrite clients.json from the topology at start-up. Off in a real deployment. */
  DEV_CREDENTIALS: env.bool(true),
  /** The client registry to load when DEV_CREDENTIALS is off; default `<data dir>/clients.json`. */
  CLIENT_REGISTRY: z.string().min(1).optional(),
  TOKEN_TTL: env.duration('5m', { min: '1s', max: '1h' }),
  TOKEN_AUDIENCE: z.string().min(1).default('imaging-connect'),
  /** Encrypts and signs page links; replicas must share it. Default: a secret made once in the data dir. */
  PAGE_TOKEN_SECRET: env.secret(16),
  /** How long a page link stays good. */
  PAGE_TOKEN_TTL: env.duration('15m', { min: '1s', max: '24h' }),
  /** How long the hub waits for a region (routing a message, fetching content) before answering 503. */
  FORWARD_TIMEOUT: env.duration('10s', { min: '100ms', max: '10m' }),
  /** How long the router reuses a directory answer; a change written by another hub replica reaches it within this. */
  DIRECTORY_CACHE_TTL: env.duration('5s', { max: '60s' }),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

export type HubConfig = z.infer<typeof HubEnvSchema>;

/** The hub's configuration; a ConfigError listing every bad variable. */
export function loadConfig(source: EnvSource = process.env): HubConfig {
  return loadEnv(HubEnvSchema, source);
}

export function publicUrlOf(hubEnv: Pick<HubConfig, 'PUBLIC_URL' | 'HOST' | 'PORT'>): string {
  return hubEnv.PUBLIC_URL ?? `http://${hubEnv.HOST}:${hubEnv.PORT}`;
}
