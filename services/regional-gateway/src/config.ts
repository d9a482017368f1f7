import { env, loadEnv, parseDuration } from '@imaging/config';
import type { EnvSource } from '@imaging/config';
import { REFERRAL_PATHWAYS } from '@imaging/fhir';
import type { AcknowledgedAlertCategory } from '@imaging/fhir';
import { z } from 'zod';
import { DEFAULT_ALERTS, DEFAULT_TURNAROUND } from './domain/ports.ts';
import type { ReportDuePathway } from './domain/ports.ts';

const ALERT_CATEGORIES: readonly AcknowledgedAlertCategory[] = ['CRITICAL', 'URGENT', 'CANCER', 'SIGNIFICANT'];
const REPORT_DUE_PATHWAYS: readonly ReportDuePathway[] = ['ces', 'suspected-cancer', 'urgent'];

/**
 * A duration per name: `CRITICAL=30m,URGENT=12h` (the names not given keep their default), or one
 * duration for every name (`1h`). `kind` names what the names are, for the error messages.
 */
function durationsByName<K extends string>(
  names: readonly K[],
  defaults: Readonly<Record<K, number>>,
  kind: string,
  example: string,
) {
  return z
    .string()
    .optional()
    .transform((value, ctx): Record<K, number> => {
      const out = { ...defaults } as Record<K, number>;
      if (value === undefined) return out;
      const bad = (message: string) => {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      };
      if (!value.includes('=')) {
        const ms = parseDuration(value.trim());
        if (!ms) return bad(`expected a duration such as 1h, or name=duration pairs such as ${example}`);
        for (const name of names) out[name] = ms;
        return out;
      }
      for (const pair of value.split(',')) {
        const [name, duration] = pair.split('=').map((p) => p.trim());
        const ms = duration ? parseDuration(duration) : undefined;
        if (!names.includes(name as K)) return bad(`'${name}' is not ${kind} (${names.join(', ')})`);
        if (!ms) return bad(`'${duration ?? ''}' for ${name} is not a duration such as 30m, 24h or 7d`);
        out[name as K] = ms;
      }
      return out;
    });
}

/**
 * A clinical time limit: under a minute is a typo, not a limit (0 would make every alert told to the patient,
 * or every request a breach, the moment it is made).
 */
const CLINICAL_LIMIT = { min: '1m' };

const durationsByCategory = (defaults: Readonly<Record<AcknowledgedAlertCategory, number>>) =>
  durationsByName(ALERT_CATEGORIES, defaults, 'an alert category', 'CRITICAL=30m,URGENT=12h');

const gatewayEnv = z.object({
  REGION_ID: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a region id such as north'),
  /** The id the router knows this gateway by; defaults to imaging-<region>. */
  SERVICE_ID: z.string().min(1).optional(),
  PORT: env.port(4101),
  HOST: z.string().default('127.0.0.1'),
  /** The gateway's public base URL (without /fhir); defaults to http://HOST:PORT. */
  PUBLIC_URL: env.url().optional(),
  /** Where the gateway reaches the hub (its token endpoint, keys and API). */
  HUB_URL: env.url().default('http://127.0.0.1:4000'),
  /**
   * The hub's public URL, when clients reach it elsewhere than HUB_URL: the issuer its tokens carry, the
   * audience of the gateway's own assertions, and the endpoints the gateway's SMART configuration gives.
   */
  HUB_PUBLIC_URL: env.url().optional(),
  /** A file path for the embedded store, or an http(s) FHIR base (HAPI) for the HTTP store. */
  GATEWAY_STORE: env.store().optional(),
  /** Where dev keys and embedded stores live (git-ignored). */
  IMAGING_DATA_DIR: z.string().optional(),
  TOKEN_AUDIENCE: z.string().default('imaging-connect'),
  /** Encrypts and signs page links; replicas must share it. Default: a secret made once in the data dir. */
  PAGE_TOKEN_SECRET: env.secret(16),
  /** How long a page link stays good. */
  PAGE_TOKEN_TTL: env.duration('15m', { min: '1s', max: '24h' }),
  /** The delivery job's timer: 0, or over 2^31-1 ms, would run it without pause. */
  DELIVERY_INTERVAL: env.duration('500ms', { min: '10ms', max: '24h' }),
  /** A failed send's first retry delay, doubled per attempt up to DELIVERY_MAX_BACKOFF (at least the base). */
  DELIVERY_BASE_BACKOFF: env.duration('1s', { min: '10ms', max: '24h' }),
  DELIVERY_MAX_BACKOFF: env.duration('60s', { min: '10ms', max: '24h' }),
  /** The outbox lease: its holder sends for half of it, so a lease near 0 would send nothing. */
  DELIVERY_LEASE: env.duration('30s', { min: '1s', max: '24h' }),
  /** Open deliveries one pass reads and claims (in one transaction). */
  DELIVERY_BATCH: z.coerce.number().int().min(1).max(1000).default(200),
  /** Sends in flight at once, each to a different destination or about a different patient. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  /** How long the requester has to acknowledge an alert, per category. */
  ALERT_ACK_WINDOWS: durationsByCategory(DEFAULT_ALERTS.acknowledgementWindowsMs),
  /** How long each escalation step waits before the next, per category. */
  ESCALATION_STEP: durationsByCategory(DEFAULT_ALERTS.escalationStepsMs),
  /** An alert still unacknowledged this long after it was raised is told to the patient. */
  PATIENT_NOTIFY_AFTER: env.duration('14d', CLINICAL_LIMIT),
  /** DM01: a request not tested this long after it was made is a breach. */
  DM01_WAIT: env.duration('42d', CLINICAL_LIMIT),
  /** The maximum reporting turnaround, exam to report. */
  REPORTING_TAT: env.duration('28d', CLINICAL_LIMIT),
  /** A suspected-CES MRI not done this long after the request is a breach. */
  CES_IMAGING_WITHIN: env.duration('4h', CLINICAL_LIMIT),
  /** When the report is due after the exam, per pathway (our defaults). */
  REPORT_DUE: durationsByName(
    REPORT_DUE_PATHWAYS,
    DEFAULT_TURNAROUND.reportDueMs,
    'a pathway with a report due time',
    'ces=1h,urgent=48h',
  ),
  /** How long each escalation step of a turnaround breach waits, per pathway (our defaults). */
  BREACH_ESCALATION_STEP: durationsByName(
    REFERRAL_PATHWAYS,
    DEFAULT_TURNAROUND.breachStepsMs,
    'a pathway',
    'ces=30m,routine=1d',
  ),
  /** How often the safety job looks for overdue alerts and turnaround times. */
  SAFETY_INTERVAL: env.duration('15s', { min: '100ms', max: '24h' }),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
});

/** The gateway's environment. One process serves one region; which one comes from here. */
export const GatewayEnvSchema = gatewayEnv.superRefine((config, ctx) => {
  // Backoff doubles from the base up to the maximum: a maximum below the base would cut every retry short.
  if (config.DELIVERY_MAX_BACKOFF < config.DELIVERY_BASE_BACKOFF)
    ctx.addIssue({ code: 'custom', path: ['DELIVERY_MAX_BACKOFF'], message: 'at least DELIVERY_BASE_BACKOFF' });
});

export type GatewayConfig = z.infer<typeof GatewayEnvSchema>;

/** The gateway's configuration; a ConfigError listing every bad variable. */
export function loadConfig(source: EnvSource = process.env): GatewayConfig {
  return loadEnv(GatewayEnvSchema, source);
}
