import type { Bundle, OperationOutcomeIssue, Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirStore } from '../store/port.ts';
import { urnTypesOf } from './base.ts';
import { assertValid, atEntry, outcomeErrorFor, validationFindings } from './validate.ts';

const WRITES = new Set(['POST', 'PUT']);

/** Each resource our own code built, with its content as built (to tell whether it changed since). */
const built = new WeakMap<object, string>();

/**
 * Marks a resource our own code built from input that has already been validated (a client's order
 * checked on arrival, a Task read from our store): a store made with `trustBuilt` stores it without
 * validating it again, as long as its content is still what it was when marked. Validation is most
 * of the CPU a write costs, and an order was otherwise validated four times on its way through one
 * gateway. The builders' output is still proven valid: the tests' stores validate every write.
 *
 * With `from`, the resources it was built from: marked only if each of them is itself marked (validated,
 * for a received message's entries) and unchanged since, so a source changed after it was checked makes
 * what is built from it be validated again.
 */
export function builtFromValidated<T extends Resource>(resource: T, from: readonly Resource[] = []): T {
  if (from.every(isBuiltFromValidated)) built.set(resource, JSON.stringify(resource));
  return resource;
}

/** True when `resource` was marked with `builtFromValidated` and has not changed since. */
export function isBuiltFromValidated(resource: Resource): boolean {
  const content = built.get(resource);
  return content !== undefined && content === JSON.stringify(resource);
}

export interface ValidatingStoreOptions {
  /**
   * Store resources marked with `builtFromValidated` (and unchanged since) without validating them
   * again. Off by default, so tests validate everything the code under test writes; the services
   * turn it on.
   */
  trustBuilt?: boolean;
  /** Resource types stored without validation: only those the service's own code writes (its AuditEvents). */
  trusted?: readonly ResourceType[];
}

/**
 * A store that validates before it writes: every create and update, and every resource a transaction
 * POSTs or PUTs, must pass `assertValid`, so nothing invalid is stored whichever code path writes.
 * In a transaction, references to other entries' `urn:uuid:` full URLs are checked against those
 * entries' types; all entries are validated before any is written, and the outcome lists the
 * problems of every entry, at `Bundle.entry[i].resource…`.
 *
 * `trusted` types are written unchecked: only for resources that the service's own code builds, and
 * that no client can submit. A test proves that builder's output is valid (the gateway's AuditEvents,
 * one or more for every write, which would otherwise double the validation cost of a small change).
 */
export function validatingStore(store: FhirStore, options: ValidatingStoreOptions = {}): FhirStore {
  const trustedTypes = new Set<string>(options.trusted ?? []);
  const trusted = (resource: Resource) =>
    trustedTypes.has(resource.resourceType) || (options.trustBuilt === true && isBuiltFromValidated(resource));
  const assertStorable = (resource: Resource) => {
    if (!trusted(resource)) assertValid(resource);
  };
  return {
    get description() {
      return store.description;
    },
    read: (type, id) => store.read(type, id),
    async create(resource, createOptions) {
      assertStorable(resource);
      return store.create(resource, createOptions);
    },
    async update(resource, updateOptions) {
      assertStorable(resource);
      return store.update(resource, updateOptions);
    },
    delete: (type, id) => store.delete(type, id),
    search: (type, query) => store.search(type, query),
    nextPage: (next) => store.nextPage(next),
    history: (type, id) => store.history(type, id),
    async transaction(bundle) {
      validateTransaction(bundle, trusted);
      return store.transaction(bundle);
    },
    close: () => store.close(),
  };
}

function validateTransaction(bundle: Bundle, trusted: (resource: Resource) => boolean): void {
  const entries = bundle.entry ?? [];
  const urnTypes = urnTypesOf(entries);
  const structure: OperationOutcomeIssue[] = [];
  const rules: OperationOutcomeIssue[] = [];
  entries.forEach((entry, i) => {
    if (!entry.resource || !WRITES.has(entry.request?.method ?? '') || trusted(entry.resource)) return;
    const found = validationFindings(entry.resource, { urnTypes });
    const prefix = (issues: OperationOutcomeIssue[]) =>
      issues.map((issue) => atEntry(issue, i, entry.resource as Resource));
    structure.push(...prefix(found.structure));
    rules.push(...prefix(found.rules));
  });
  const error = outcomeErrorFor({ structure, rules });
  if (error) throw error;
}
