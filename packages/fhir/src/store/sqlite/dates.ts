import { toMilliseconds } from './stamp.ts';

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
  // A stamp of this store's (microseconds) has the range of its millisecond, as the pattern reads it.
  return millisecondInstantRange(toMilliseconds(value)) ?? patternRange(value);
}

/**
 * dateRange by the general pattern: any precision, any zone, out-of-range fields rolled over as `Date.UTC`
 * rolls them (`2026-02-30` is 2 March). Exported for the tests: the fast path must agree with it.
 */
export function patternRange(value: string): InstantRange | undefined {
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

/**
 * The range of an instant written as `toISOString()` writes it (`2026-12-01T10:41:36.123Z`: every
 * `meta.lastUpdated`, and most dates the services stamp), without a Date: the value is its own low bound
 * and the next millisecond its high one. Undefined for anything else, which patternRange then reads:
 * another shape, a field out of range (rolled over there), a year below 100 (`Date.UTC` reads 0–99 as
 * 1900–1999), or a 999th millisecond (the next one carries into the seconds). Its two `toISOString()`
 * calls were most of what indexing a date cost.
 */
export function millisecondInstantRange(value: string): InstantRange | undefined {
  if (value.length !== INSTANT_SHAPE.length) return undefined;
  for (let i = 0; i < INSTANT_SHAPE.length; i++) {
    const c = value.charCodeAt(i);
    const want = INSTANT_SHAPE.charCodeAt(i);
    if (want === ZERO ? c < ZERO || c > NINE : c !== want) return undefined;
  }
  const year = digits(value, 0, 4);
  const month = digits(value, 5, 2);
  const millis = digits(value, 20, 3);
  if (year < 100 || month < 1 || month > 12 || millis === 999) return undefined;
  const day = digits(value, 8, 2);
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (digits(value, 11, 2) > 23 || digits(value, 14, 2) > 59 || digits(value, 17, 2) > 59) return undefined;
  return { lo: value, hi: `${value.slice(0, 20)}${String(millis + 1).padStart(3, '0')}Z` };
}

/** What `toISOString()` writes: a digit where this has `0`, the same character elsewhere. */
const INSTANT_SHAPE = '0000-00-00T00:00:00.000Z';
const ZERO = 48;
const NINE = 57;

function digits(value: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) n = n * 10 + value.charCodeAt(i) - ZERO;
  return n;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
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
