import type { Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import {
  checkPagingParams,
  expandOptionsOf,
  expandValueSet,
  invalid,
  issue,
  notFound,
  OutcomeError,
  PRESENTATION_PARAMETERS,
  presentationProblem,
  VALIDATE_OPERATION,
  validateOperation,
} from '@imaging/fhir';
import type { Clock } from '@imaging/fhir';
import { Hono } from 'hono';
import type { Env } from 'hono';
import type { CapabilityResource } from './capability.ts';
import { readResource } from './body.ts';
import { fhirResponse, searchsetBundle } from './responses.ts';

export interface PublishedResources {
  structureDefinitions: StructureDefinition[];
  valueSets: ValueSet[];
}

const EXPAND_OPERATION = 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand';

/** What a type answers a search with here: its canonical `url`, its `_id`, and for StructureDefinition its `type`. */
const CRITERIA: Record<
  'StructureDefinition' | 'ValueSet',
  Record<string, (r: StructureDefinition | ValueSet) => unknown>
> = {
  StructureDefinition: { _id: (r) => r.id, url: (r) => r.url, type: (r) => (r as StructureDefinition).type },
  ValueSet: { _id: (r) => r.id, url: (r) => r.url },
};
/** The paging `checkPagingParams` reads: not criteria. */
const PAGING = new Set(['_count', '_offset']);

/**
 * The conformance resources a server publishes, read-only and open like its CapabilityStatement: the
 * StructureDefinitions of the profiles it enforces and the ValueSets it checks codes against, by id or
 * by canonical `url`, and `ValueSet/$expand`. Mount at the FHIR base, before the bearer-token check.
 */
export function publishedRoutes<E extends Env>(published: PublishedResources, baseUrl: string, clock: Clock): Hono<E> {
  const app = new Hono<E>();
  const served = { StructureDefinition: published.structureDefinitions, ValueSet: published.valueSets } as const;

  for (const [type, resources] of Object.entries(served) as [
    keyof typeof served,
    (StructureDefinition | ValueSet)[],
  ][]) {
    app.get(`/${type}`, (c) => {
      const url = new URL(c.req.url);
      // The store-backed searches' bounds and 400s. Without `_count` the whole (small) list is one page;
      // `_count=0` is the total alone (R4 search.html#count: as `_summary=count`), with no page to go on to.
      const { count, offset = 0 } = checkPagingParams(url.searchParams);
      const matches = resources.filter((r) => matchesSearch(type, r, url.searchParams));
      const end = count === undefined ? matches.length : offset + count;
      // The list is fixed and public, so a plain `_offset` link pages it (no signed `_page` token needed).
      let next: string | undefined;
      if (count !== 0 && end < matches.length) {
        const params = new URLSearchParams(url.searchParams);
        params.set('_offset', String(end));
        next = `${baseUrl}/${type}?${params}`;
      }
      return fhirResponse(
        searchsetBundle(
          { resources: matches.slice(offset, end), included: [], total: matches.length },
          baseUrl,
          `${baseUrl}/${type}${url.search}`,
          next,
        ),
      );
    });
  }
  const valueSet = (find: (v: ValueSet) => boolean, what: string): ValueSet => {
    const found = published.valueSets.find(find);
    if (!found) throw new OutcomeError(notFound(what));
    return found;
  };
  const expand = (vs: ValueSet, params: URLSearchParams) =>
    fhirResponse(expandValueSet(vs, expandOptionsOf(params, clock.now())));
  app.get('/ValueSet/$expand', (c) => {
    const params = new URL(c.req.url).searchParams;
    const url = params.get('url');
    if (!url)
      throw new OutcomeError(invalid([issue({ text: '$expand needs the url of a ValueSet', expression: 'url' })]));
    return expand(
      valueSet((v) => v.url === url, `ValueSet ${url}`),
      params,
    );
  });
  app.get('/ValueSet/:id/$expand', (c) =>
    expand(
      valueSet((v) => v.id === c.req.param('id'), `ValueSet/${c.req.param('id')}`),
      new URL(c.req.url).searchParams,
    ),
  );
  app.get('/ValueSet/:id', (c) =>
    fhirResponse(valueSet((v) => v.id === c.req.param('id'), `ValueSet/${c.req.param('id')}`)),
  );
  app.get('/StructureDefinition/:id', (c) => {
    const found = published.structureDefinitions.find((d) => d.id === c.req.param('id'));
    if (!found) throw new OutcomeError(notFound(`StructureDefinition/${c.req.param('id')}`));
    return fhirResponse(found);
  });
  return app;
}

function matchesSearch(
  type: keyof typeof CRITERIA,
  resource: StructureDefinition | ValueSet,
  params: URLSearchParams,
): boolean {
  const problems = [];
  let matches = true;
  for (const [name, value] of params) {
    if (PAGING.has(name)) continue;
    const criterion = CRITERIA[type][name];
    if (PRESENTATION_PARAMETERS.has(name)) {
      const problem = presentationProblem(name, undefined, value);
      if (problem) problems.push(issue({ code: 'not-supported', text: problem, expression: name }));
    } else if (!criterion) {
      problems.push(
        issue({
          code: 'not-supported',
          text: `Search parameter '${name}' is not supported on ${type}; use ${Object.keys(CRITERIA[type]).join(', ')}`,
          expression: name,
        }),
      );
    } else if (!value.split(',').includes(String(criterion(resource)))) matches = false;
  }
  if (problems.length) throw new OutcomeError(invalid(problems));
  return matches;
}

/** What the CapabilityStatement declares of `publishedRoutes`: each type it has resources of. */
export function publishedCapability(published: PublishedResources): CapabilityResource[] {
  const declared: CapabilityResource[] = [
    {
      type: 'StructureDefinition',
      interactions: ['read', 'search-type'],
      versioning: 'no-version',
      searchParams: [
        { name: '_id', type: 'token' },
        { name: 'url', type: 'uri' },
        { name: 'type', type: 'token' },
      ],
      documentation: 'The profiles this server enforces. Open: no token needed.',
    },
    {
      type: 'ValueSet',
      interactions: ['read', 'search-type'],
      versioning: 'no-version',
      searchParams: [
        { name: '_id', type: 'token' },
        { name: 'url', type: 'uri' },
      ],
      operations: [
        {
          name: 'expand',
          definition: EXPAND_OPERATION,
          documentation: 'Parameters: url, filter, offset, count.',
          methods: ['GET'],
          levels: ['type', 'instance'],
        },
      ],
      documentation: 'The codes this server checks. Open: no token needed.',
    },
  ];
  return declared.filter((r) =>
    r.type === 'StructureDefinition' ? published.structureDefinitions.length > 0 : published.valueSets.length > 0,
  );
}

/** The `$validate` operation as the CapabilityStatement declares it on each type that has it. */
export const VALIDATE_CAPABILITY = {
  name: 'validate',
  definition: VALIDATE_OPERATION,
  documentation:
    'POST a Parameters with the resource (mode create or update) or the resource itself: a 200 OperationOutcome ' +
    'listing what a write would be refused for by base R4, the required bindings and the profile. Rules that ' +
    'depend on stored data (a patient you may read, a performer in the directory) are checked by the write. ' +
    'Needs an access token.',
};

/**
 * `POST /<type>/$validate` for each of `types`. Mount at the FHIR base, after the bearer-token check:
 * validating costs work, so it is for clients of the server.
 */
export function validateRoutes<E extends Env>(types: readonly Resource['resourceType'][]): Hono<E> {
  const app = new Hono<E>();
  for (const type of types) {
    app.post(`/${type}/$validate`, async (c) => fhirResponse(validateOperation(type, await readResource(c)), 200));
  }
  return app;
}
