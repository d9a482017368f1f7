/** Seconds since the epoch, as JWT `iat`/`exp` count them. */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
