import { ALERT_CATEGORIES } from '@imaging/fhir';
import type { OpenAlert } from '@imaging/messaging';

/**
 * Safety at a glance: the open result alerts every region reports (acknowledgement Tasks not yet
 * completed), by category, most urgent first, and those whose acknowledgement is overdue. Only what the
 * gateways hold: no alert is ever made up here.
 */

export interface SafetyAlert extends OpenAlert {
  region: string;
  /** Its acknowledgement (or, once acknowledged, its action) was due and is not recorded. */
  overdue: boolean;
}

export interface SafetySummary {
  /** Most urgent first: by category, then by due time. */
  alerts: SafetyAlert[];
  byCategory: { category: string; count: number }[];
  overdue: number;
}

const rank = (category: string | undefined) => {
  const i = (ALERT_CATEGORIES as readonly string[]).indexOf(category ?? '');
  return i < 0 ? ALERT_CATEGORIES.length : i;
};

export function safetySummary(openByRegion: ReadonlyMap<string, readonly OpenAlert[]>, now: Date): SafetySummary {
  const alerts: SafetyAlert[] = [...openByRegion].flatMap(([region, open]) =>
    open.map((alert) => ({
      ...alert,
      region,
      overdue: alert.dueAt !== undefined && Date.parse(alert.dueAt) <= now.getTime(),
    })),
  );
  alerts.sort(
    (a, b) =>
      rank(a.category) - rank(b.category) ||
      (Date.parse(a.dueAt ?? '') || Number.MAX_SAFE_INTEGER) - (Date.parse(b.dueAt ?? '') || Number.MAX_SAFE_INTEGER),
  );
  const counts = new Map<string, number>();
  for (const alert of alerts)
    counts.set(alert.category ?? 'unknown', (counts.get(alert.category ?? 'unknown') ?? 0) + 1);
  return {
    alerts,
    byCategory: [...counts].map(([category, count]) => ({ category, count })),
    overdue: alerts.filter((a) => a.overdue).length,
  };
}
