/**
 * Calendar quarters, as the learning report counts them (docs/clinical-safety.md, Learning report):
 * `2026-Q1` is January to March 2026, Q2 April to June, Q3 July to September, Q4 October to December.
 * Each runs from midnight in England on its first day to midnight on the first day of the next, so a
 * quarter of summer time starts at 23:00 UTC the day before. (The NHS financial year's Q1 is April to
 * June: its quarters are the same months under other names.)
 */

export interface Quarter {
  /** `2026-Q3`. */
  id: string;
  /** Midnight in England on the quarter's first day. */
  start: Date;
  /** Midnight in England on the next quarter's first day: the quarter ends just before. */
  end: Date;
}

const QUARTER = /^(\d{4})-Q([1-4])$/;

/** The quarter an id names, or undefined when it is not `YYYY-Qn` (year 2000-2099). */
export function parseQuarter(id: string): Quarter | undefined {
  const m = QUARTER.exec(id);
  if (!m) return undefined;
  const year = Number(m[1]);
  const q = Number(m[2]);
  if (year < 2000 || year > 2099) return undefined;
  return { id, start: englandMidnight(year, (q - 1) * 3), end: englandMidnight(year, q * 3) };
}

/** The quarter that holds an instant, in England. */
export function quarterOf(at: Date): Quarter {
  const [year, month] = ENGLAND_DATE.format(at).split('-').map(Number) as [number, number];
  return parseQuarter(`${year}-Q${Math.floor((month - 1) / 3) + 1}`) as Quarter;
}

/** Whether an instant falls in the quarter. */
export function inQuarter(quarter: Quarter, at: Date | undefined): at is Date {
  return !!at && at.getTime() >= quarter.start.getTime() && at.getTime() < quarter.end.getTime();
}

const ENGLAND_DATE = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});
const ENGLAND_TIME = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hour12: false,
  hour: '2-digit',
  minute: '2-digit',
});

/**
 * Midnight in England on the 1st of a month (0-based; 12 is January next year). The clocks change at
 * 01:00 UTC on a Sunday at the end of March and October, never near the 1st, so the offset at UTC midnight
 * is the offset at local midnight.
 */
function englandMidnight(year: number, month: number): Date {
  const utc = Date.UTC(year, month, 1);
  const [hours, minutes] = ENGLAND_TIME.format(new Date(utc)).split(':').map(Number) as [number, number];
  // At UTC midnight England shows 00:00 (GMT) or 01:00 (BST): subtract what it is ahead.
  return new Date(utc - (hours * 60 + minutes) * 60_000);
}
