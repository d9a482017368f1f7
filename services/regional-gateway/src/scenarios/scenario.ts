import type { ScenarioWorld } from './world.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/**
 * The times the scenarios hold the safety layer to, written out here rather than read from its settings, so
 * a change to a default that breaks a guideline fails a scenario.
 */
export const GUIDELINE = {
  /** Acknowledgement windows: CRITICAL 60 min (our default), URGENT 24 h, CANCER 7 days (DOMAIN.md, requirements 9-11). */
  acknowledge: { CRITICAL: 60 * MINUTE, URGENT: 24 * HOUR, CANCER: 7 * DAY },
  /** How long each escalation step waits before the next (our defaults, docs/clinical-safety.md). */
  step: { CRITICAL: 30 * MINUTE, URGENT: 4 * HOUR, CANCER: DAY },
  /** The patient is told of a significant result still unacknowledged after 14 days (requirement 15). */
  patientToldAfter: 14 * DAY,
} as const;

/** A time `ms` after another. */
export const after = (at: Date, ms: number): Date => new Date(at.getTime() + ms);

/**
 * A clinical safety scenario: a failure the ombudsman or HSIB found (a result lost after discharge, a
 * critical finding nobody acknowledged…), staged step by step in a world, and what the safety layer must do
 * about it, by when. The same steps run twice: with the safety layer, every catch must happen in time; in the
 * control run without it, none may happen, which shows the failure goes silent there (and that the check
 * can fail).
 */

/** Something the safety layer must do about the failure, and by when. */
export interface Catch {
  /** What, in words: "the delegate is told once the 60-minute acknowledgement window has passed". */
  what: string;
  /** The latest time it may happen: the guideline time, plus at most the scenario's tick (one safety pass). */
  by: Date;
  /** The earliest: an escalation before its window has passed would be noise. Default: any time. */
  notBefore?: Date;
  /** When it happened, read from the stores; undefined when it never did. */
  at?: Date;
}

export interface Scenario {
  /** Its number: the file is `src/scenarios/<id>-<name>.ts`. */
  id: number;
  name: string;
  title: string;
  /** Stages the failure in the world and reads back what was caught. Throws when the failure was not staged. */
  run(world: ScenarioWorld): Promise<Catch[]>;
}

const iso = (at: Date | undefined) => at?.toISOString() ?? 'never';

/** Every catch that did not happen, or happened too late or too early, in words; empty when all were in time. */
export function missedOrLate(catches: readonly Catch[]): string[] {
  return catches.flatMap((c) => {
    if (!c.at) return [`${c.what}: never happened (due by ${iso(c.by)})`];
    if (c.at > c.by) return [`${c.what}: at ${iso(c.at)}, after ${iso(c.by)}`];
    if (c.notBefore && c.at < c.notBefore) return [`${c.what}: at ${iso(c.at)}, before ${iso(c.notBefore)}`];
    return [];
  });
}

/** Every catch that happened anyway, in words: in the control run, without the safety layer, there must be none. */
export function caughtAnyway(catches: readonly Catch[]): string[] {
  return catches.filter((c) => c.at).map((c) => `${c.what}: at ${iso(c.at)}`);
}

/** One line per catch, for a report: when it was due and when it happened. */
export function describeCatch(c: Catch): string {
  return `${c.at && missedOrLate([c]).length === 0 ? '✓' : '✗'} ${c.what}: due by ${iso(c.by)}, happened ${iso(c.at)}`;
}

/** Throws when a scenario's precondition (the failure it stages) did not hold: a broken scenario, not a miss. */
export function staged(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`The scenario could not stage its failure: ${what}`);
}
