import type { FhirStore } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import type { Scenario } from './scenario.ts';
import { caughtAnyway, describeCatch, missedOrLate } from './scenario.ts';
import { scenarioWorld } from './world.ts';

export interface ScenarioRunOptions {
  /** Where it runs, for the test titles (e.g. the HAPI server). */
  label?: string;
  /** The store of each service (hub, north, midlands, south), unvalidated; default embedded, in memory. */
  store?: (service: string) => FhirStore;
  /** Readies the stores once, before the first world (e.g. HAPI's SearchParameters). */
  prepare?: () => Promise<void>;
  timeoutMs?: number;
  /** Where each catch's line goes besides the test's own output (the conformance report's notes). */
  record?: (line: string) => void;
}

const DAY = 24 * 60 * 60 * 1000;
/** Where the first world's clock starts; each next world starts earlier (see below). */
const FIRST_START = Date.parse('2027-06-01T09:00:00.000Z');
/** Longer than any scenario runs for on its clock. */
const WORLD_SPAN = 120 * DAY;

/**
 * Each scenario twice: with the safety layer, every catch in time; without it (the control run), none. Every
 * world of one call gets a clock window of its own, each earlier than the last: worlds that share stores
 * (HAPI partitions) never see each other's alerts or deliveries come due. The embedded run and the HAPI run
 * (conformance group 7) are this same function; only `store` differs.
 */
export function describeScenarios(scenarios: readonly Scenario[], options: ScenarioRunOptions = {}): void {
  const timeout = options.timeoutMs ?? 60_000;
  let worlds = 0;
  let prepared: Promise<void> | undefined;
  const open = async (safety: boolean) => {
    prepared ??= options.prepare?.() ?? Promise.resolve();
    await prepared;
    const start = new Date(FIRST_START - worlds++ * WORLD_SPAN);
    return scenarioWorld({ safety, start, ...(options.store ? { store: options.store } : {}) });
  };
  for (const scenario of scenarios) {
    describe(`scenario ${scenario.id}: ${scenario.title}${options.label ? ` (on ${options.label})` : ''}`, () => {
      it('the safety layer catches it within the guideline time', { timeout }, async () => {
        const world = await open(true);
        try {
          const catches = await scenario.run(world);
          for (const c of catches) options.record?.(describeCatch(c));
          expect(catches.length, 'a scenario names what must be caught').toBeGreaterThan(0);
          expect(missedOrLate(catches)).toEqual([]);
        } finally {
          await world.close();
        }
      });

      it('without the safety layer, the same steps raise nothing: the failure goes silent', { timeout }, async () => {
        const world = await open(false);
        try {
          const catches = await scenario.run(world);
          options.record?.(`without the safety layer: ${caughtAnyway(catches).length} of ${catches.length} caught`);
          expect(catches.length).toBeGreaterThan(0);
          expect(caughtAnyway(catches)).toEqual([]);
        } finally {
          await world.close();
        }
      });
    });
  }
}
