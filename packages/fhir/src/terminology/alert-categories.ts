import type { CodeableConcept, Coding, DiagnosticReport, Extension, Task } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, EXTENSIONS, SNOMED_SYSTEM } from '../systems.ts';

/**
 * RCR / AoMRC alert categories for imaging reports (DOMAIN.md §1, requirement 7), and how long the
 * referrer has to acknowledge each. Windows marked *default* are design choices, not national rules:
 * pass overrides from configuration.
 */

export const ALERT_CATEGORIES = ['CRITICAL', 'URGENT', 'CANCER', 'SIGNIFICANT', 'NONE'] as const;
export type AlertCategory = (typeof ALERT_CATEGORIES)[number];
export type AcknowledgedAlertCategory = Exclude<AlertCategory, 'NONE'>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface AlertCategoryInfo {
  display: string;
  meaning: string;
  /** Time allowed for acknowledgement; undefined for NONE (no acknowledgement Task). */
  acknowledgementWindowMs: number | undefined;
  /** True when the window is a configurable default rather than a published standard. */
  windowIsDefault: boolean;
  /** The priority of the acknowledgement Task and of the alert's Communications (R4 request-priority). */
  priority: NonNullable<Task['priority']>;
}

export const ALERT_CATEGORY_INFO: Readonly<Record<AlertCategory, AlertCategoryInfo>> = {
  CRITICAL: {
    display: 'Critical',
    meaning: 'Emergency action as soon as possible; verbal communication must be recorded.',
    acknowledgementWindowMs: 60 * MINUTE,
    windowIsDefault: true,
    priority: 'stat',
  },
  URGENT: {
    display: 'Urgent',
    meaning: 'Medical review within 24 hours.',
    acknowledgementWindowMs: 24 * HOUR,
    windowIsDefault: false,
    priority: 'urgent',
  },
  CANCER: {
    display: 'Cancer',
    meaning: 'New cancer or recurrence (not progression); the site-specific MDT is also notified.',
    acknowledgementWindowMs: 7 * DAY,
    windowIsDefault: true,
    priority: 'urgent',
  },
  SIGNIFICANT: {
    display: 'Significant unexpected',
    meaning: 'Significant unexpected finding needing timely action.',
    // Our choice: 7 days, so escalation runs well before the 14-day patient notification (req. 15).
    acknowledgementWindowMs: 7 * DAY,
    windowIsDefault: true,
    priority: 'routine',
  },
  NONE: {
    display: 'No alert',
    meaning: 'No alert: the report is read and acted on in the normal way.',
    acknowledgementWindowMs: undefined,
    windowIsDefault: false,
    priority: 'routine',
  },
};

export type AcknowledgementWindows = Partial<Record<AcknowledgedAlertCategory, number>>;

export function isAlertCategory(value: unknown): value is AlertCategory {
  return typeof value === 'string' && (ALERT_CATEGORIES as readonly string[]).includes(value);
}

/** Milliseconds allowed to acknowledge an alert of this category (configured value first), or undefined for NONE. */
export function acknowledgementWindowMs(
  category: AlertCategory,
  configured: AcknowledgementWindows = {},
): number | undefined {
  if (category === 'NONE') return undefined;
  return configured[category] ?? ALERT_CATEGORY_INFO[category].acknowledgementWindowMs;
}

/** When acknowledgement is due for an alert issued at `issuedAt`, or undefined for NONE. */
export function acknowledgementDueAt(
  category: AlertCategory,
  issuedAt: Date,
  configured: AcknowledgementWindows = {},
): Date | undefined {
  const window = acknowledgementWindowMs(category, configured);
  return window === undefined ? undefined : new Date(issuedAt.getTime() + window);
}

export function alertCategoryCoding(category: AlertCategory): Coding {
  return { system: CODE_SYSTEMS.alertCategory, code: category, display: ALERT_CATEGORY_INFO[category].display };
}

/** The DiagnosticReport extension that carries the alert category. */
export function alertCategoryExtension(category: AlertCategory): Extension {
  return { url: EXTENSIONS.alertCategory, valueCoding: alertCategoryCoding(category) };
}

/** A report's alert category, when it carries exactly one valid one. */
export function alertCategoryOf(report: DiagnosticReport): AlertCategory | undefined {
  const found = (report.extension ?? []).filter((e) => e.url === EXTENSIONS.alertCategory);
  if (found.length !== 1) return undefined;
  const coding = found[0]?.valueCoding;
  return coding?.system === CODE_SYSTEMS.alertCategory && isAlertCategory(coding.code) ? coding.code : undefined;
}

/**
 * A CANCER alert names the suspected primary site (in local use, DOMAIN.md §1), so the site-specific MDT
 * can be found: a SNOMED CT body structure in its own extension, beside the alert category.
 */
export function suspectedPrimarySiteExtension(site: Coding & { code: string }): Extension {
  return {
    url: EXTENSIONS.suspectedPrimarySite,
    valueCodeableConcept: { coding: [{ ...site, system: SNOMED_SYSTEM }] },
  };
}

/** The suspected primary site a report names, when it names exactly one. */
export function suspectedPrimarySiteOf(report: DiagnosticReport): CodeableConcept | undefined {
  const found = (report.extension ?? []).filter((e) => e.url === EXTENSIONS.suspectedPrimarySite);
  return found.length === 1 ? found[0]?.valueCodeableConcept : undefined;
}
