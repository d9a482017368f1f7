import { HttpStore, prepareReferenceIdentifierSearch } from '@imaging/fhir';
import { profileDefinitions } from '@imaging/fhir/examples';
import type { TargetInfo } from './types.ts';

export interface Prepared {
  /** Custom SearchParameters installed now (empty when they were there already). */
  searchParameters: string[];
  /** The project's StructureDefinitions, put (idempotently) where the server looks for profiles. */
  profiles: string[];
}

/**
 * Readies a server for the suite, idempotently: on HAPI, the SearchParameters that stand in for
 * `:identifier` on references (HAPI lacks the modifier); everywhere, the project's StructureDefinitions,
 * because HAPI 8.2+ rejects a resource whose `meta.profile` it cannot resolve.
 */
export async function prepareServer(
  target: TargetInfo,
  log: (line: string) => void = () => undefined,
): Promise<Prepared> {
  const definitions = new HttpStore({ baseUrl: target.definitionsBase, timeoutMs: 120_000 });
  const profiles: string[] = [];
  for (const definition of profileDefinitions()) {
    // PUT by id: the same definition again is no new version.
    await definitions.update({ ...definition, id: definition.id as string });
    profiles.push(definition.url);
  }
  let searchParameters: string[] = [];
  if (target.kind === 'hapi') {
    searchParameters = await prepareReferenceIdentifierSearch(definitions, [
      new HttpStore({ baseUrl: target.base, timeoutMs: 120_000 }),
    ]);
  }
  log(
    `conformance: server prepared: ${profiles.length} StructureDefinitions, ${searchParameters.length} SearchParameters installed now`,
  );
  return { searchParameters, profiles };
}
