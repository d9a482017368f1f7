import type { TaskMeta } from 'vitest';
import { inject } from 'vitest';
import type { ServerKind } from '../deviations.ts';
import { knownDeviation } from '../deviations.ts';
import type { TargetInfo } from '../server/types.ts';
import type { SuiteOptions } from './meta.ts';
import './meta.ts';

let current: TaskMeta | undefined;

export function beginTest(meta: TaskMeta): void {
  current = meta;
}

export function endTest(): void {
  current = undefined;
}

function running(what: string): TaskMeta {
  if (!current) throw new Error(`${what} can only be called while a test runs`);
  return current;
}

/**
 * The running test met deviation `id`, recorded for `kind` servers: it passes as a recorded deviation.
 * Throws (failing the test) when no such deviation is recorded, so a new difference is never waved through.
 */
export function recordDeviation(kind: ServerKind, id: string): void {
  running('recordDeviation').deviation = knownDeviation(kind, id);
}

/** A fact for the report, beside the test's result. */
export function note(text: string): void {
  const meta = running('note');
  meta.notes ??= [];
  meta.notes.push(text);
}

/** The FHIR server under test; a clear error in a run that has none (actor-only). */
export function requireTarget(): TargetInfo {
  const target = inject('target');
  if (!target) throw new Error('This group needs a FHIR server under test, and this run has none (an actor-only run?)');
  return target;
}

export function suiteOptions(): SuiteOptions {
  return inject('options');
}
