/** Where time comes from. Tests pass a clock they move, so expiry is tested without waiting. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Seconds since the epoch, as JWT `iat`/`exp` count them. */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
