import { describe, expect, it } from 'vitest';
import { exampleDiagnosticReport } from '../examples/index.ts';
import { CODE_SYSTEMS, EXTENSIONS } from '../systems.ts';
import {
  acknowledgementDueAt,
  acknowledgementWindowMs,
  ALERT_CATEGORIES,
  ALERT_CATEGORY_INFO,
  alertCategoryExtension,
  alertCategoryOf,
  isAlertCategory,
} from './alert-categories.ts';

const MIN = 60_000;

describe('alert categories', () => {
  it('are the five RCR / AoMRC categories', () => {
    expect(ALERT_CATEGORIES).toEqual(['CRITICAL', 'URGENT', 'CANCER', 'SIGNIFICANT', 'NONE']);
    for (const c of ALERT_CATEGORIES) expect(ALERT_CATEGORY_INFO[c].meaning).not.toBe('');
  });

  it('have the default acknowledgement windows', () => {
    expect(acknowledgementWindowMs('CRITICAL')).toBe(60 * MIN);
    expect(acknowledgementWindowMs('URGENT')).toBe(24 * 60 * MIN);
    expect(acknowledgementWindowMs('CANCER')).toBe(7 * 24 * 60 * MIN);
    expect(acknowledgementWindowMs('SIGNIFICANT')).toBe(7 * 24 * 60 * MIN);
    expect(acknowledgementWindowMs('NONE')).toBeUndefined();
  });

  it('mark which windows are configurable defaults rather than national rules', () => {
    expect(ALERT_CATEGORIES.filter((c) => ALERT_CATEGORY_INFO[c].windowIsDefault)).toEqual([
      'CRITICAL',
      'CANCER',
      'SIGNIFICANT',
    ]);
  });

  it('take configured windows over the defaults', () => {
    expect(acknowledgementWindowMs('CRITICAL', { CRITICAL: 30 * MIN })).toBe(30 * MIN);
    expect(acknowledgementWindowMs('URGENT', { CRITICAL: 30 * MIN })).toBe(24 * 60 * MIN);
  });

  it('compute when acknowledgement is due', () => {
    const issued = new Date('2026-01-08T10:15:00Z');
    expect(acknowledgementDueAt('CRITICAL', issued)?.toISOString()).toBe('2026-01-08T11:15:00.000Z');
    expect(acknowledgementDueAt('CANCER', issued)?.toISOString()).toBe('2026-01-15T10:15:00.000Z');
    expect(acknowledgementDueAt('URGENT', issued, { URGENT: 12 * 60 * MIN })?.toISOString()).toBe(
      '2026-01-08T22:15:00.000Z',
    );
    expect(acknowledgementDueAt('NONE', issued)).toBeUndefined();
  });

  it('round-trip through the report extension', () => {
    for (const c of ALERT_CATEGORIES) {
      const ext = alertCategoryExtension(c);
      expect(ext.url).toBe(EXTENSIONS.alertCategory);
      expect(ext.valueCoding?.system).toBe(CODE_SYSTEMS.alertCategory);
      expect(alertCategoryOf(exampleDiagnosticReport({ extension: [ext] }))).toBe(c);
    }
  });

  it('read no category from a report with none, two, or an unknown one', () => {
    expect(alertCategoryOf(exampleDiagnosticReport({ extension: undefined }))).toBeUndefined();
    expect(
      alertCategoryOf(
        exampleDiagnosticReport({ extension: [alertCategoryExtension('URGENT'), alertCategoryExtension('NONE')] }),
      ),
    ).toBeUndefined();
    const unknown = { url: EXTENSIONS.alertCategory, valueCoding: { system: CODE_SYSTEMS.alertCategory, code: 'RED' } };
    expect(alertCategoryOf(exampleDiagnosticReport({ extension: [unknown] }))).toBeUndefined();
    expect(isAlertCategory('urgent')).toBe(false);
  });
});
