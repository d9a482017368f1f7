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
        PATIENT_NOTIFY_AFTER: '0',
        CES_IMAGING_WITHIN: '30s',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "ALERT_ACK_WINDOWS: 'NONE' is not an alert category (CRITICAL, URGENT, CANCER, SIGNIFICANT) (got 'NONE=1h')",
      "ESCALATION_STEP: 'soon' for CRITICAL is not a duration such as 30m, 24h or 7d (got 'CRITICAL=soon')",
      "PATIENT_NOTIFY_AFTER: at least 1m (got '0')",
      "CES_IMAGING_WITHIN: at least 1m (got '30s')",
      "SAFETY_INTERVAL: between 100ms and 24h (got '10ms')",
    ]);
  });
});

describe('gateway configuration: the turnaround times', () => {
  it('defaults to DM01, the 28-day reporting maximum and the 4-hour CES MRI of DOMAIN.md, and our pathway times', () => {
    const config = loadConfig({ REGION_ID: 'north' });
    expect([config.DM01_WAIT, config.REPORTING_TAT, config.CES_IMAGING_WITHIN]).toEqual([42 * DAY, 28 * DAY, 4 * HOUR]);
    expect(config.REPORT_DUE).toEqual({ ces: HOUR, 'suspected-cancer': 3 * DAY, urgent: 2 * DAY });
    expect(config.BREACH_ESCALATION_STEP).toEqual({
      ces: 30 * MINUTE,
      'suspected-cancer': 4 * HOUR,
      urgent: 4 * HOUR,
      routine: DAY,
    });
  });

  it('takes per-pathway overrides, or one duration for every pathway', () => {
    const config = loadConfig({
      REGION_ID: 'north',
      DM01_WAIT: '30d',
      CES_IMAGING_WITHIN: '2h',
      REPORT_DUE: 'urgent=12h',
      BREACH_ESCALATION_STEP: '15m',
    });
    expect([config.DM01_WAIT, config.CES_IMAGING_WITHIN]).toEqual([30 * DAY, 2 * HOUR]);
    expect(config.REPORT_DUE).toEqual({ ces: HOUR, 'suspected-cancer': 3 * DAY, urgent: 12 * HOUR });
    expect(Object.values(config.BREACH_ESCALATION_STEP)).toEqual([15 * MINUTE, 15 * MINUTE, 15 * MINUTE, 15 * MINUTE]);
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({
        REGION_ID: 'north',
        REPORTING_TAT: 'a month',
        REPORT_DUE: 'routine=1d',
        BREACH_ESCALATION_STEP: 'ces=',
      });
    } catch (err) {
      error = err;
    }
    expect((error as ConfigError).problems).toEqual([
      "REPORTING_TAT: expected a duration such as 500ms, 90s, 5m, 24h or 7d (got 'a month')",
      "REPORT_DUE: 'routine' is not a pathway with a report due time (ces, suspected-cancer, urgent) (got 'routine=1d')",
      "BREACH_ESCALATION_STEP: '' for ces is not a duration such as 30m, 24h or 7d (got 'ces=')",
    ]);
  });
});

describe('gateway configuration: the store and the delivery timings', () => {
  const problemsOf = (source: Record<string, string>) => {
    try {
      loadConfig({ REGION_ID: 'north', ...source });
    } catch (err) {
      return (err as ConfigError).problems;
    }
    return [];
  };

  it('takes an http(s) base with an upper-case scheme as the store reads it, and a file path as it is', () => {
    expect(loadConfig({ REGION_ID: 'north', GATEWAY_STORE: 'HTTPS://hapi.example/fhir/north' }).GATEWAY_STORE).toBe(
      'https://hapi.example/fhir/north',
    );
    expect(loadConfig({ REGION_ID: 'north', GATEWAY_STORE: 'data/fhir.sqlite' }).GATEWAY_STORE).toBe(
      'data/fhir.sqlite',
    );
  });

  // Each would otherwise be opened as an empty local store in a directory named after it.
  it.each(['https:/hapi/fhir', 'htps://hapi.example/fhir', 'file:///data/fhir.sqlite'])(
    'refuses GATEWAY_STORE=%s',
    (value) => {
      expect(problemsOf({ GATEWAY_STORE: value })).toEqual([
        `GATEWAY_STORE: expected a file path, or a well-formed http(s):// FHIR base (got '${value}')`,
      ]);
    },
  );

  // setTimeout runs a timer of 0 or of over 2^31-1 ms after 1 ms: the job would run without pause.
  it.each([
    ['DELIVERY_INTERVAL', '0', 'between 10ms and 24h'],
    ['DELIVERY_INTERVAL', '30d', 'between 10ms and 24h'],
    ['SAFETY_INTERVAL', '25d', 'between 100ms and 24h'],
    ['DELIVERY_BASE_BACKOFF', '0', 'between 10ms and 24h'],
    ['DELIVERY_MAX_BACKOFF', '2d', 'between 10ms and 24h'],
    ['DELIVERY_LEASE', '0s', 'between 1s and 24h'],
  ])('refuses %s=%s: %s', (name, value, range) => {
    expect(problemsOf({ [name]: value })).toEqual([`${name}: ${range} (got '${value}')`]);
  });

  it('refuses a maximum backoff below the base', () => {
    expect(problemsOf({ DELIVERY_BASE_BACKOFF: '5s', DELIVERY_MAX_BACKOFF: '2s' })).toEqual([
      "DELIVERY_MAX_BACKOFF: at least DELIVERY_BASE_BACKOFF (got '2s')",
    ]);
    expect(loadConfig({ REGION_ID: 'north', DELIVERY_BASE_BACKOFF: '5s', DELIVERY_MAX_BACKOFF: '5s' })).toMatchObject({
      DELIVERY_BASE_BACKOFF: 5_000,
      DELIVERY_MAX_BACKOFF: 5_000,
    });
  });

  it('names a bad base backoff alone, without a second problem for the maximum', () => {
    expect(problemsOf({ DELIVERY_BASE_BACKOFF: 'soon' })).toEqual([
      "DELIVERY_BASE_BACKOFF: expected a duration such as 500ms, 90s, 5m, 24h or 7d (got 'soon')",
    ]);
  });
});
