import type { ServiceClient } from '@imaging/auth';
import type { Bundle, Endpoint, Organization, Resource } from '@medplum/fhirtypes';
import type { DirectoryPort, FlowTopology } from '../domain/ports.ts';
import { topologyFromDirectory } from '../domain/topology.ts';

/** The hub's directory, read with the flow view's own token (`system/Organization.rs system/Endpoint.rs`). */
export function hubDirectory(hubUrl: string, client: ServiceClient): DirectoryPort {
  const all = async <T extends Resource>(type: string): Promise<T[]> => {
    const found: T[] = [];
    let url: string | undefined = `${hubUrl}/fhir/${type}?_count=100`;
    while (url) {
      const page: Bundle = (await client.call<Bundle>(url)).body;
      found.push(...(page.entry ?? []).map((e) => e.resource as T).filter((r) => r?.resourceType === type));
      url = page.link?.find((l) => l.relation === 'next')?.url;
    }
    return found;
  };
  return {
    async read(): Promise<FlowTopology> {
      const [organizations, endpoints] = await Promise.all([
        all<Organization>('Organization'),
        all<Endpoint>('Endpoint'),
      ]);
      return topologyFromDirectory(hubUrl, organizations, endpoints);
    },
  };
}
