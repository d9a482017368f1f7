import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { documentationProblems, documentedVariables } from '@imaging/config/testing';
import { ConfigError } from '@imaging/config';
import { describe, expect, it } from 'vitest';
import { GatewayEnvSchema, loadConfig } from './config.ts';

const README = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');

describe('gateway configuration', () => {
  it('needs only the region', () => {
    expect(() => loadConfig({})).toThrow(/REGION_ID/);
    expect(loadConfig({ REGION_ID: 'north' })).toMatchObject({ REGION_ID: 'north', PORT: 4101, HOST: '127.0.0.1' });
  });

  it("is what the README's table says: every variable, and each default the schema gives", () => {
    const documented = documentedVariables(README, 'gateway variable');
    expect(documented.map((d) => d.name)).toContain('SERVICE_ID');
    expect(documentationProblems(GatewayEnvSchema, documented)).toEqual([]);
  });
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('gateway configuration: the alert windows', () => {
  it('defaults to the windows of DOMAIN.md and our step windows', () => {
    const config = loadConfig({ REGION_ID: 'north' });
    expect(config.ALERT_ACK_WINDOWS).toEqual({
      CRITICAL: 60 * MINUTE,
      URGENT: 24 * HOUR,
      CANCER: 7 * DAY,
      SIGNIFICANT: 7 * DAY,
    });
    expect(config.ESCALATION_STEP).toEqual({ CRITICAL: 30 * MINUTE, URGENT: 4 * HOUR, CANCER: DAY, SIGNIFICANT: DAY });
    expect(config.PATIENT_NOTIFY_AFTER).toBe(14 * DAY);
    expect(config.SAFETY_INTERVAL).toBe(15_000);
  });

  it('takes per-category overrides, or one duration for every category', () => {
    const config = loadConfig({
      REGION_ID: 'north',
      ALERT_ACK_WINDOWS: 'CRITICAL=30m, CANCER=3d',
      ESCALATION_STEP: '1h',
      PATIENT_NOTIFY_AFTER: '10d',
      SAFETY_INTERVAL: '5s',
    });
    expect(config.ALERT_ACK_WINDOWS).toEqual({
      CRITICAL: 30 * MINUTE,
      URGENT: 24 * HOUR,
      CANCER: 3 * DAY,
      SIGNIFICANT: 7 * DAY,
    });
    expect(config.ESCALATION_STEP).toEqual({ CRITICAL: HOUR, URGENT: HOUR, CANCER: HOUR, SIGNIFICANT: HOUR });
    expect(config.PATIENT_NOTIFY_AFTER).toBe(10 * DAY);
    expect(config.SAFETY_INTERVAL).toBe(5_000);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({
        REGION_ID: 'north',
        ALERT_ACK_WINDOWS: 'NONE=1h',
        ESCALATION_STEP: 'CRITICAL=soon',
        SAFETY_INTERVAL: '10ms',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "ALERT_ACK_WINDOWS: 'NONE' is not an alert category (CRITICAL, URGENT, CANCER, SIGNIFICANT) (got 'NONE=1h')",
      "ESCALATION_STEP: 'soon' for CRITICAL is not a duration such as 30m, 24h or 7d (got 'CRITICAL=soon')",
      "SAFETY_INTERVAL: at least 100ms (got '10ms')",
    ]);
  });
});
