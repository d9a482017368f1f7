import type { Bundle, OperationOutcomeIssue, Resource, ResourceType } from '@medplum/fhirtypes';
import type { FhirStore } from '../store/port.ts';
import { assertValid as assertValidResource, outcomeErrorFor, validationFindings } from './validate.ts';

const WRITES = new Set(['POST', 'PUT']);

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
export function validatingStore(store: FhirStore, options: { trusted?: readonly ResourceType[] } = {}): FhirStore {
  const trusted = new Set<string>(options.trusted ?? []);
  const assertValid = (resource: Resource) => {
    if (!trusted.has(resource.resourceType)) assertValidResource(resource);
  };
  return {
    get description() {
      return store.description;
    },
    read: (type, id) => store.read(type, id),
    async create(resource, options) {
      assertValid(resource);
      return store.create(resource, options);
    },
    async update(resource, options) {
      assertValid(resource);
      return store.update(resource, options);
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

function validateTransaction(bundle: Bundle, trusted: ReadonlySet<string>): void {
  const entries = bundle.entry ?? [];
  const urnTypes = new Map<string, string>();
  for (const entry of entries) {
    if (entry.fullUrl?.startsWith('urn:uuid:') && entry.resource?.resourceType)
      urnTypes.set(entry.fullUrl, entry.resource.resourceType);
  }
  const structure: OperationOutcomeIssue[] = [];
  const rules: OperationOutcomeIssue[] = [];
  entries.forEach((entry, i) => {
    if (!entry.resource || !WRITES.has(entry.request?.method ?? '') || trusted.has(entry.resource.resourceType)) return;
    const found = validationFindings(entry.resource, { urnTypes });
    const prefix = (issues: OperationOutcomeIssue[]) =>
      issues.map((issue) => atEntry(issue, i, entry.resource as Resource));
    structure.push(...prefix(found.structure));
    rules.push(...prefix(found.rules));
  });
  const error = outcomeErrorFor({ structure, rules });
  if (error) throw error;
}

/** `Task.status` → `Bundle.entry[2].resource.status`. */
function atEntry(issue: OperationOutcomeIssue, index: number, resource: Resource): OperationOutcomeIssue {
  const base = `Bundle.entry[${index}].resource`;
  const type = resource.resourceType;
  const expression = (issue.expression ?? [type]).map((e) => {
    if (e === type) return base;
    if (e.startsWith(`${type}.`)) return `${base}${e.slice(type.length)}`;
    return `${base}.${e}`;
  });
  return { ...issue, expression };
}
