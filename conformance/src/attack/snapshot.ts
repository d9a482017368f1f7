import { searchAll } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';
import type { ResourceType } from '@medplum/fhirtypes';
import type { ServiceName } from './surface.ts';

/**
 * What each service's store holds, per resource type: every resource's current version, so a count that
 * moved, a resource that appeared and a seeded resource that changed all show. AuditEvents (a refusal is
 * audited, by design) and used client assertions (Basic: every token request records one) are left out.
 */
export type Snapshot = Partial<Record<ServiceName, Partial<Record<string, Record<string, string>>>>>;

/** The types each service writes when it serves a client or a message. */
export const WRITTEN_TYPES: Readonly<Record<ServiceName, readonly ResourceType[]>> = {
  hub: ['Organization', 'Endpoint', 'DocumentReference'],
  north: ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Endpoint', 'Bundle'],
  midlands: ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Endpoint', 'Bundle'],
  south: ['Patient', 'ServiceRequest', 'Task', 'ImagingStudy', 'DiagnosticReport', 'Endpoint', 'Bundle'],
};

export async function snapshotStores(stores: Readonly<Record<ServiceName, FhirStore>>): Promise<Snapshot> {
  const snapshot: Snapshot = {};
  for (const [service, types] of Object.entries(WRITTEN_TYPES) as [ServiceName, readonly ResourceType[]][]) {
    const held: Partial<Record<string, Record<string, string>>> = {};
    for (const type of types) {
      const versions: Record<string, string> = {};
      for (const r of await searchAll(stores[service], type, { _count: '500' }))
        versions[r.id] = r.meta?.versionId ?? '';
      held[type] = versions;
    }
    snapshot[service] = held;
  }
  return snapshot;
}

/** Each difference between two snapshots, as a line: counts that moved, resources new, changed or gone. */
export function snapshotDifferences(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  const services = new Set([...Object.keys(before), ...Object.keys(after)]) as Set<ServiceName>;
  for (const service of services) {
    const was = before[service] ?? {};
    const is = after[service] ?? {};
    for (const type of new Set([...Object.keys(was), ...Object.keys(is)])) {
      const a = was[type] ?? {};
      const b = is[type] ?? {};
      const countA = Object.keys(a).length;
      const countB = Object.keys(b).length;
      if (countA !== countB) lines.push(`${service}: ${type} count ${countA} → ${countB}`);
      for (const id of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (a[id] === b[id]) continue;
        if (a[id] === undefined) lines.push(`${service}: ${type}/${id} created`);
        else if (b[id] === undefined) lines.push(`${service}: ${type}/${id} gone`);
        else lines.push(`${service}: ${type}/${id} version ${a[id]} → ${b[id]}`);
      }
    }
  }
  return lines;
}
