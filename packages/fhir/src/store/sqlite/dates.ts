/**
 * FHIR dates as half-open instant ranges [lo, hi) in UTC ISO form, so that ranges compare as strings.
 * `2026` is the whole year; `2026-03-05T10:00Z` is that minute. Values without a zone are taken as UTC.
 */
export interface InstantRange {
  lo: string;
  hi: string;
}

export const MIN_INSTANT = '0000-01-01T00:00:00.000Z';
export const MAX_INSTANT = '9999-12-31T23:59:59.999Z';

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function dateRange(value: string): InstantRange | undefined {
  const m = DATE_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  const hour = h ? Number(h) : 0;
  const minute = mi ? Number(mi) : 0;
  const second = s ? Number(s) : 0;
  const millis = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  let start = Date.UTC(year, month, day, hour, minute, second, millis);
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [zh, zm] = zone.slice(1).split(':').map(Number);
    start -= sign * ((zh ?? 0) * 60 + (zm ?? 0)) * 60_000;
  }
  let end: number;
  if (!mo) end = addUtcMonths(start, 12);
  else if (!d) end = addUtcMonths(start, 1);
  else if (!h) end = start + 86_400_000;
  else if (!s) end = start + 60_000;
  else if (!frac) end = start + 1000;
  else end = start + 1;
  if (Number.isNaN(start) || Number.isNaN(end)) return undefined;
  return { lo: new Date(start).toISOString(), hi: new Date(end).toISOString() };
}

function addUtcMonths(instant: number, months: number): number {
  const date = new Date(instant);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.getTime();
}

export function periodRange(start: string | undefined, end: string | undefined): InstantRange | undefined {
  const lo = start ? dateRange(start)?.lo : MIN_INSTANT;
  const hi = end ? dateRange(end)?.hi : MAX_INSTANT;
  if (!lo || !hi) return undefined;
  return { lo, hi };
}
