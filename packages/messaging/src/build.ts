import type { Bundle, BundleEntry, Identifier, MessageHeader, Reference, Resource } from '@medplum/fhirtypes';
import type { MessageEventDefinition } from './events.ts';

export interface BuildMessageInput {
  event: MessageEventDefinition;
  /** MessageHeader.id; defaults to a new UUID. */
  id?: string;
  timestamp: string;
  /** Service ids (the directory's) of sender and receiver. */
  sourceService: string;
  destinationService: string;
  /** The focus resource; it is also carried as an entry. */
  focus: Resource & { id?: string };
  /** Other resources the message carries. */
  resources: (Resource & { id?: string })[];
  /**
   * The business identifier of a resource referenced but not carried (a `Type/id` reference), so the
   * receiver can resolve it to its own copy. Undefined leaves the reference out of the message.
   */
  identifierOf: (reference: string) => Identifier | undefined;
}

/**
 * Builds a FHIR message Bundle: MessageHeader first, then the resources, each with a `urn:uuid:` full
 * URL. Local ids and versions are dropped (they mean nothing to the receiver), references between the
 * carried resources become `urn:uuid:` references, and references to anything else become logical
 * references by business identifier.
 */
export function buildMessage(input: BuildMessageInput): Bundle {
  const carried = [input.focus, ...input.resources.filter((r) => r !== input.focus)];
  const urns = new Map<string, string>();
  for (const resource of carried) {
    if (resource.id) urns.set(`${resource.resourceType}/${resource.id}`, `urn:uuid:${crypto.randomUUID()}`);
  }
  const fullUrl = (r: Resource & { id?: string }) =>
    (r.id ? urns.get(`${r.resourceType}/${r.id}`) : undefined) ?? `urn:uuid:${crypto.randomUUID()}`;
  const entries: BundleEntry[] = carried.map((resource) => ({
    fullUrl: fullUrl(resource),
    resource: portable(resource, urns, input.identifierOf),
  }));

  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: input.id ?? crypto.randomUUID(),
    eventCoding: { system: input.event.system, code: input.event.code, display: input.event.display },
    source: { endpoint: input.sourceService },
    destination: [{ endpoint: input.destinationService }],
    focus: [{ reference: entries[0]?.fullUrl as string }],
  };
  return {
    resourceType: 'Bundle',
    type: 'message',
    timestamp: input.timestamp,
    entry: [{ fullUrl: `urn:uuid:${header.id}`, resource: header }, ...entries],
  };
}

function portable(
  resource: Resource,
  urns: Map<string, string>,
  identifierOf: BuildMessageInput['identifierOf'],
): Resource {
  const { id: _id, meta, ...rest } = resource as Resource & { id?: string };
  const copy = mapReferences(rest, (ref) => {
    if (!ref.reference || ref.reference.startsWith('#') || ref.reference.startsWith('urn:')) return ref;
    const urn = urns.get(ref.reference);
    if (urn) return { ...ref, reference: urn };
    const identifier = ref.identifier ?? identifierOf(ref.reference);
    if (!identifier) return undefined;
    const { reference: _reference, ...logical } = ref;
    const logicalRef: Reference = { ...logical, identifier };
    const type = ref.type ?? ref.reference.split('/')[0];
    if (type) logicalRef.type = type as Reference['type'];
    return logicalRef;
  }) as Resource;
  // Profiles and tags travel; the sender's version and timestamp do not, nor its security labels: who
  // may see a resource is for each holder to decide, never for a message to say.
  const portableMeta = meta && { ...meta, versionId: undefined, lastUpdated: undefined, security: undefined };
  return portableMeta && (portableMeta.profile || portableMeta.tag)
    ? { ...copy, meta: stripUndefined(portableMeta) }
    : copy;
}

/** Applies `change` to every Reference (an object with `reference` or a typed `identifier`) in a resource. */
export function mapReferences<T>(value: T, change: (ref: Reference) => Reference | undefined): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) {
      const items = node.map(walk).filter((n) => n !== undefined);
      return items.length ? items : undefined; // FHIR JSON has no empty arrays
    }
    if (!node || typeof node !== 'object') return node;
    if (isReference(node)) return change(node as Reference);
    return Object.fromEntries(
      Object.entries(node as Record<string, unknown>)
        .map(([k, v]) => [k, walk(v)] as const)
        .filter(([, v]) => v !== undefined),
    );
  };
  return walk(value) as T;
}

function isReference(node: object): boolean {
  const r = node as Record<string, unknown>;
  return (
    typeof r.reference === 'string' ||
    (typeof r.type === 'string' && !!r.identifier && typeof r.identifier === 'object')
  );
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
