import type { Identifier, Patient, Resource, Task } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { OutcomeError } from '../../outcomes.ts';
import { CANONICAL_BASE } from '../../systems.ts';
import { outcomeErrorOf } from '../../testing.ts';
import type { FhirStore, WithId } from '../port.ts';
import type { DeviationId, StoreKind } from './deviations.ts';
import { KNOWN_DEVIATIONS } from './deviations.ts';

/** Identifiers the contract writes: never an NHS number or ODS code that could exist. */
export const CONTRACT_SYSTEM = `${CANONICAL_BASE}/Id/store-contract`;
const GROUP_SYSTEM = `${CANONICAL_BASE}/Id/store-contract-group`;

/** What every part of the contract works with: the store under test, and values unique to this run. */
export interface ContractContext {
  /** The store under test. It is opened in the suite's beforeAll: use it in a hook or a test, not while registering. */
  readonly store: FhirStore;
  /** Eight characters unique to this run of the suite. */
  readonly run: string;
  /** A test name, marked with the deviation it is subject to on this store. */
  named(title: string, deviation?: DeviationId): string;
  /** Whether this store is subject to the deviation. */
  has(deviation: DeviationId): boolean;
  /** A value unique to this run and call. */
  unique(label: string): string;
  identifier(value: string, system?: string): Identifier;
  /** Resources of one test group share a group identifier, so a search can be confined to them. */
  group(label: string): { identifier: Identifier; query: string };
  task(extra?: Partial<Task>): Task;
  patient(extra?: Partial<Patient>): Patient;
  create<T extends Resource>(resource: T): Promise<WithId<T>>;
}

/** The context of one run of the contract against one store; `store` returns it once opened. */
export function contractContext(store: () => FhirStore, kind: StoreKind): ContractContext {
  const deviations = KNOWN_DEVIATIONS[kind];
  const run = randomUUID().slice(0, 8);
  let seq = 0;
  const unique = (label: string): string => `ct-${run}-${label}-${++seq}`;
  const identifier = (value: string, system = CONTRACT_SYSTEM): Identifier => ({ system, value });
  return {
    get store() {
      return store();
    },
    run,
    named: (title, deviation) =>
      deviation && deviations[deviation] ? `${title} [known deviation ${kind}:${deviation}]` : title,
    has: (deviation) => deviations[deviation] !== undefined,
    unique,
    identifier,
    group: (label) => {
      const value = unique(label);
      return { identifier: { system: GROUP_SYSTEM, value }, query: `${GROUP_SYSTEM}|${value}` };
    },
    task: (extra = {}) => ({ resourceType: 'Task', status: 'requested', intent: 'order', ...extra }),
    patient: (extra = {}) => ({ resourceType: 'Patient', identifier: [identifier(unique('patient'))], ...extra }),
    create: async (resource) => (await store().create(resource)).resource,
  };
}

/** Sorted ids, so results compare without depending on an order the query did not ask for. */
export function ids(resources: { id?: string }[]): string[] {
  return resources.map((r) => r.id as string).sort();
}

/** Awaits a promise that must fail with an OutcomeError of `status` carrying an OperationOutcome. */
export async function expectOutcome(promise: Promise<unknown>, status: number): Promise<OutcomeError> {
  const outcome = await outcomeErrorOf(promise);
  expect(outcome.status, `expected an OutcomeError with status ${status}`).toBe(status);
  expect(outcome.outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.outcome.issue.length).toBeGreaterThan(0);
  return outcome;
}
