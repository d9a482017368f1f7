/**
 * `meta.lastUpdated` as this store writes it: an instant with microseconds (`2026-12-01T16:18:27.741003Z`,
 * FHIR's instant takes any number of fractional digits). Every stamp is after the store's previous one,
 * so versions and `_sort=_lastUpdated` keep the order they were written in even when the clock stands
 * still or goes back (hazard log HAZ-010). Steps of a microsecond keep that order without running ahead
 * of the clock: with steps of a millisecond a store writing more than a thousand versions a second ran
 * further into the future every second (3 s after 15 s at 230 orders a second). Always six digits, so
 * that stamps compare as strings in the order of their instants.
 */
export class Stamps {
  /** The last stamp given, in microseconds since the epoch (below 2^53 until the year 2255). */
  private last = 0;

  /** The stamp for a new version: the clock's time, but after the previous stamp and after `previous`. */
  next(clockMs: number, previous?: string): string {
    let t = clockMs * 1000;
    const floor = Math.max(this.last, previous ? instantMicros(previous) : 0);
    if (t <= floor) t = floor + 1;
    this.last = t;
    return format(t);
  }
}

/**
 * An instant's microseconds since the epoch: a stamp of this store's exactly, any other instant (an older
 * file's, HAPI's) to its millisecond. For ordering versions by when they were written, where
 * `Date.parse` would tie every version a transaction wrote in one millisecond.
 */
export function instantMicros(instant: string): number {
  // Date.parse reads the first three fractional digits and ignores the rest.
  return Date.parse(instant) * 1000 + (isMicroStamp(instant) ? Number(instant.slice(23, 26)) : 0);
}

/** `2026-12-01T16:18:27.741003Z` → `2026-12-01T16:18:27.741Z`; anything else as it is. */
export function toMilliseconds(instant: string): string {
  return isMicroStamp(instant) ? `${instant.slice(0, 23)}Z` : instant;
}

function format(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, 23)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

/** The shape `format` writes: toISOString()'s with three more digits. */
function isMicroStamp(s: string): boolean {
  if (s.length !== 27 || s.charCodeAt(19) !== 46 /* . */ || s.charCodeAt(26) !== 90 /* Z */) return false;
  for (let i = 20; i < 26; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
