import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { badRequest, notSupported, OutcomeError } from '../../outcomes.ts';
import type { WithId } from '../port.ts';
import { newResourceId } from './resource-id.ts';
import type { SyncStore } from './sync-store.ts';

/**
 * Runs a transaction Bundle against the store's synchronous operations. The caller holds the SQLite
 * transaction, so a failure in any entry rolls every entry back.
 *
 * Order follows the FHIR spec: DELETE, then POST, then PUT, then GET. POST entries get their ids (or
 * their conditional match) first, so that `urn:uuid:` references anywhere in the Bundle can be
 * rewritten before anything is written.
 */
export function runTransaction(store: SyncStore, bundle: Bundle): Bundle {
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'transaction') {
    throw new OutcomeError(badRequest("Expected a Bundle of type 'transaction'", 'Bundle.type'));
  }
  const entries = bundle.entry ?? [];
  const responses: BundleEntry[] = new Array(entries.length);
  const ids = new Map<string, string>(); // urn:uuid full URL -> Type/id
  const newIds = new Map<number, string>();
  const matched = new Map<number, WithId<Resource>>();

  for (const [i, entry] of entries.entries()) {
    atEntry(i, () => {
      const method = entry.request?.method;
      if (!method || !entry.request?.url)
        throw new OutcomeError(
          badRequest('Each entry needs request.method and request.url', `Bundle.entry[${i}].request`),
        );
      if (method !== 'POST') return;
      const resource = requireResource(entry, i);
      const existing = entry.request.ifNoneExist
        ? store.matchOne(resource.resourceType, entry.request.ifNoneExist)
        : undefined;
      const id = existing?.id ?? newResourceId();
      if (existing) matched.set(i, existing);
      else newIds.set(i, id);
      if (entry.fullUrl?.startsWith('urn:uuid:')) ids.set(entry.fullUrl, `${resource.resourceType}/${id}`);
    });
  }

  const order = ['DELETE', 'POST', 'PUT', 'GET'];
  const indexes = entries
    .map((_, i) => i)
    .sort((a, b) => order.indexOf(methodOf(entries[a])) - order.indexOf(methodOf(entries[b])));
  for (const i of indexes) {
    const entry = entries[i] as BundleEntry;
    responses[i] = atEntry(i, () => runEntry(store, entry, i, ids, newIds, matched));
  }
  return { resourceType: 'Bundle', type: 'transaction-response', entry: responses };
}

function runEntry(
  store: SyncStore,
  entry: BundleEntry,
  i: number,
  ids: Map<string, string>,
  newIds: Map<number, string>,
  matched: Map<number, WithId<Resource>>,
): BundleEntry {
  const request = entry.request as NonNullable<BundleEntry['request']>;
  const url = request.url;
  switch (request.method) {
    case 'DELETE': {
      const [type, id] = literalUrl(url, i);
      store.delete(type, id);
      return { response: { status: '204 No Content' } };
    }
    case 'POST': {
      const existing = matched.get(i);
      if (existing) return responseFor(existing, '200 OK');
      const resource = rewriteReferences(requireResource(entry, i), ids);
      const { resource: created } = store.create(resource, {}, newIds.get(i));
      return responseFor(created, '201 Created');
    }
    case 'PUT': {
      const resource = rewriteReferences(requireResource(entry, i), ids);
      if (url.includes('?')) {
        const [type, query] = url.split('?') as [string, string];
        const existing = store.matchOne(type, query);
        const id = existing?.id ?? resource.id ?? newResourceId();
        const updated = store.update({ ...resource, id } as WithId<Resource>);
        return responseFor(updated, existing ? '200 OK' : '201 Created');
      }
      const [, id] = literalUrl(url, i);
      const options = request.ifMatch ? { ifMatch: request.ifMatch } : {};
      return responseFor(store.update({ ...resource, id } as WithId<Resource>, options), '200 OK');
    }
    case 'GET': {
      if (url.includes('?')) {
        const [type, query] = url.split('?') as [string, string];
        const page = store.search(type, new URLSearchParams(query));
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: page.total,
          entry: page.resources.map((resource) => ({ resource, search: { mode: 'match' } })),
        };
        return { response: { status: '200 OK' }, resource: bundle };
      }
      const [type, id] = literalUrl(url, i);
      return responseFor(store.read(type, id), '200 OK');
    }
    default:
      throw new OutcomeError(
        notSupported(
          `request.method ${request.method} is not supported in a transaction`,
          `Bundle.entry[${i}].request.method`,
        ),
      );
  }
}

function methodOf(entry: BundleEntry | undefined): string {
  return entry?.request?.method ?? '';
}

function requireResource(entry: BundleEntry, i: number): Resource {
  if (!entry.resource) throw new OutcomeError(badRequest('This entry needs a resource', `Bundle.entry[${i}].resource`));
  return entry.resource;
}

function literalUrl(url: string, i: number): [string, string] {
  const [type, id, ...rest] = url.split('/');
  if (!type || !id || rest.length > 0)
    throw new OutcomeError(badRequest(`Expected Type/id, not '${url}'`, `Bundle.entry[${i}].request.url`));
  return [type, id];
}

function responseFor(resource: WithId<Resource>, status: string): BundleEntry {
  const version = resource.meta?.versionId ?? '1';
  return {
    resource,
    response: {
      status,
      location: `${resource.resourceType}/${resource.id}/_history/${version}`,
      etag: `W/"${version}"`,
      lastModified: resource.meta?.lastUpdated,
    },
  };
}

/**
 * Replaces `urn:uuid:` references with the ids the transaction assigned. Copies only the objects on
 * the way to a replaced reference and shares the rest (the store serialises what it writes, and
 * changes nothing it is given): a walk, not a JSON round trip with a reviver, which cost more than
 * the write itself in a grouped transaction full of urns.
 */
function rewriteReferences<T>(value: T, ids: Map<string, string>): T {
  if (ids.size === 0 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const rewritten = rewriteReferences(item, ids);
      if (rewritten === item) return;
      copy ??= [...value];
      copy[i] = rewritten;
    });
    return (copy ?? value) as T;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const rewritten =
      key === 'reference' && typeof item === 'string' ? (ids.get(item) ?? item) : rewriteReferences(item, ids);
    if (rewritten === item) continue;
    copy ??= { ...(value as Record<string, unknown>) };
    copy[key] = rewritten;
  }
  return (copy ?? value) as T;
}

/** Names the failing entry in the outcome's expressions. */
function atEntry<R>(i: number, work: () => R): R {
  try {
    return work();
  } catch (err) {
    if (!(err instanceof OutcomeError)) throw err;
    const outcome = {
      ...err.outcome,
      issue: err.outcome.issue.map((issue) => ({
        ...issue,
        expression: issue.expression?.some((e) => e.startsWith('Bundle.entry'))
          ? issue.expression
          : [`Bundle.entry[${i}]`, ...(issue.expression ?? [])],
      })),
    };
    throw new OutcomeError(outcome, err.status);
  }
}
