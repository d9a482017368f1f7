import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import {
  evalFhirPathTyped,
  getSearchParameter,
  getSearchParameterDetails,
  globalSchema,
  toTypedValue,
} from '@medplum/core';
import {
  loadFhirDefinitions,
  NHS_NUMBER_SYSTEM,
  ODS_SYSTEM,
  ruleProblems,
  sortableParams,
  testNhsNumber,
} from '@imaging/fhir';
import type { ParamRule } from '@imaging/fhir';
import { beforeAll, describe, expect, it } from 'vitest';
import { READABLE_TYPES } from '../app.ts';
import type { SearchableType } from '../domain/search-rules.ts';
import { SEARCH_RULES } from '../domain/search-rules.ts';
import { RIS_TOKEN, testGateway } from '../testing/app.ts';
import type { ProviderResources } from '../testing/pathway.ts';
import { reportedCase } from '../testing/pathway.ts';

/**
 * The CapabilityStatement declares exactly what the gateway answers: each declared parameter, modifier,
 * prefix, chain, sort key, _include and _revinclude works on the embedded store (it finds what it should,
 * and only that), and every other R4 parameter of a served type is refused under strict handling and left
 * out under lenient.
 */

type Statement = CapabilityStatement & {
  rest: [{ resource: NonNullable<CapabilityStatement['rest']>[0]['resource'] }];
};

let statement: Statement;
let held: ProviderResources;
let get: (path: string, prefer?: string) => Promise<Response>;

beforeAll(async () => {
  loadFhirDefinitions();
  const { regions, midlands } = await reportedCase();
  held = midlands;
  const gateway = await testGateway(regions.midlands);
  const ris = await gateway.token(RIS_TOKEN);
  get = async (path, prefer) =>
    gateway.app.request(path, { headers: { Authorization: `Bearer ${ris}`, ...(prefer ? { Prefer: prefer } : {}) } });
  statement = (await (await gateway.app.request('/fhir/metadata')).json()) as Statement;
});

const declared = (type: string) => statement.rest[0].resource?.find((r) => r.type === type);
const types = Object.keys(SEARCH_RULES) as SearchableType[];

async function searchset(path: string): Promise<Bundle> {
  const res = await get(path);
  const body = (await res.json()) as Bundle | OperationOutcome;
  expect(res.status, `${path}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
  return body as Bundle;
}

async function matchIds(path: string): Promise<string[]> {
  return ((await searchset(path)).entry ?? [])
    .filter((e) => e.search?.mode === 'match')
    .map((e) => e.resource?.id as string);
}

describe('the CapabilityStatement', () => {
  it('declares the search rules: per type, their parameters with types, _sort, _summary, _elements, their _includes and _revincludes, and nothing else', () => {
    expect(statement.rest[0].resource?.map((r) => r.type)).toEqual([
      ...READABLE_TYPES,
      // Read by id only, and never searched (audit-events.test.ts).
      'AuditEvent',
      'StructureDefinition',
      'ValueSet',
    ]);
    expect(types.sort()).toEqual([...READABLE_TYPES].sort());
    for (const type of types) {
      const rules = SEARCH_RULES[type];
      expect(declared(type)?.searchParam?.map((p) => [p.name, p.type])).toEqual([
        ...Object.entries(rules.params).map(([name, rule]) => [name, rule.type]),
        ['_sort', 'special'],
        ['_summary', 'special'],
        ['_elements', 'special'],
      ]);
      expect(declared(type)?.searchInclude ?? []).toEqual(Object.keys('includes' in rules ? rules.includes : {}));
      expect(declared(type)?.searchRevInclude ?? []).toEqual('revincludes' in rules ? [...rules.revincludes] : []);
    }
    expect(declared('ServiceRequest')?.searchRevInclude).toContain('Task:focus');
  });

  it('declares only rules that R4 and both stores can answer', () => {
    expect(ruleProblems(SEARCH_RULES)).toEqual([]);
  });

  it('declares a modifier or prefix in the documentation of each parameter that takes one', () => {
    const owner = declared('Task')?.searchParam?.find((p) => p.name === 'owner');
    expect(owner?.documentation).toBe('Only with :identifier. Chains: .identifier.');
    const authored = declared('Task')?.searchParam?.find((p) => p.name === 'authored-on');
    expect(authored?.documentation).toBe('Prefixes: eq, gt, lt, ge, le.');
  });
});

describe('every declared search parameter works on the embedded store', () => {
  const ruleOf = (type: SearchableType, name: string) => (SEARCH_RULES[type].params as Record<string, ParamRule>)[name];
  const cases = () =>
    types.flatMap((type) =>
      (declared(type)?.searchParam ?? []).flatMap((p) => {
        const rule = ruleOf(type, p.name);
        return rule ? variants(type, p.name, rule) : [];
      }),
    );

  it('finds the resource with a matching value, and nothing with another', async () => {
    const tried: string[] = [];
    for (const { type, key, match, miss } of cases()) {
      const target = held[type];
      const narrow = key === '_id' ? '' : `&_id=${target.id}`;
      const q = (value: string) => `/fhir/${type}?${new URLSearchParams({ [key]: value })}${narrow}`;
      expect(await matchIds(q(match)), `${type}?${key}=${match}`).toEqual([target.id]);
      expect(await matchIds(q(miss)), `${type}?${key}=${miss}`).toEqual([]);
      tried.push(`${type}?${key}`);
    }
    // Each declared parameter, each of its modifiers and each of its prefixes was tried.
    const expected = types.flatMap((type) =>
      Object.entries(SEARCH_RULES[type].params).flatMap(([name, rule]: [string, ParamRule]) => [
        ...(rule.modifierRequired ? [] : [`${type}?${name}`]),
        ...(rule.modifiers ?? []).map((m) => `${type}?${name}:${m}`),
        ...(rule.prefixes ?? []).map(() => `${type}?${name}`),
      ]),
    );
    expect(tried.sort()).toEqual(expected.sort());
  });

  it('brings in what each declared _include names', async () => {
    const includes = statement.rest[0].resource?.flatMap((r) => (r.searchInclude ?? []).map((i) => [r.type, i])) ?? [];
    expect(includes.length).toBeGreaterThan(0);
    for (const [type, include] of includes as [SearchableType, string][]) {
      const res = await get(`/fhir/${type}?_id=${held[type].id}&_include=${include}`);
      expect(res.status, include).toBe(200);
      const bundle = (await res.json()) as Bundle;
      const rules = SEARCH_RULES[type] as { includes: Record<string, readonly string[]> };
      const brought = (bundle.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource);
      for (const target of rules.includes[include] ?? [])
        expect(
          brought.map((r) => r?.resourceType),
          `${type}?_include=${include}`,
        ).toContain(target);
    }
  });

  it('brings in what each declared _revinclude names', async () => {
    const revincludes = statement.rest[0].resource?.flatMap((r) => (r.searchRevInclude ?? []).map((i) => [r.type, i]));
    expect(revincludes?.length).toBeGreaterThan(0);
    for (const [type, revinclude] of (revincludes ?? []) as [SearchableType, string][]) {
      const bundle = await searchset(`/fhir/${type}?_id=${held[type].id}&_revinclude=${revinclude}`);
      const brought = (bundle.entry ?? []).filter((e) => e.search?.mode === 'include').map((e) => e.resource);
      const [source] = revinclude.split(':') as [SearchableType];
      expect(
        brought.map((r) => `${r?.resourceType}/${r?.id}`),
        `${type}?_revinclude=${revinclude}`,
      ).toContain(`${source}/${held[source].id}`);
    }
  });

  it('answers each declared chain as its rule says, finding what the unchained search finds', async () => {
    let tried = 0;
    for (const type of types) {
      for (const [name, rule] of Object.entries(SEARCH_RULES[type].params) as [string, ParamRule][]) {
        for (const [chained, how] of Object.entries(rule.chains ?? {})) {
          const target = held[type];
          const value =
            how === 'as-identifier'
              ? (variants(type, name, rule).find((v) => v.key === `${name}:identifier`)?.match as string)
              : tokenOf({ type: 'Identifier', value: held.Patient.identifier?.[0] });
          const q = (v: string) =>
            `/fhir/${type}?${new URLSearchParams({ [`${name}.${chained}`]: v, _id: target.id })}`;
          expect(await matchIds(q(value as string)), `${type}?${name}.${chained}`).toEqual([target.id]);
          expect(await matchIds(q(otherToken(value as string))), `${type}?${name}.${chained}`).toEqual([]);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(4);
  });

  it('sorts by each declared sort key, both ways', async () => {
    for (const type of types) {
      const documentation = declared(type)?.searchParam?.find((p) => p.name === '_sort')?.documentation ?? '';
      const keys = sortableParams(SEARCH_RULES[type]);
      expect(documentation, type).toContain(keys.join(', '));
      for (const key of keys)
        for (const sort of [key, `-${key}`])
          expect(await matchIds(`/fhir/${type}?_id=${held[type].id}&_sort=${sort}`), `${type}?_sort=${sort}`).toEqual([
            held[type].id,
          ]);
    }
  });

  it('refuses every other R4 search parameter of a served type under strict handling, naming it', async () => {
    for (const type of types) {
      for (const code of undeclared(type)) {
        const res = await get(`/fhir/${type}?${encodeURIComponent(code)}=x`, 'handling=strict');
        expect(res.status, `${type}?${code}`).toBe(400);
        expect(((await res.json()) as OperationOutcome).issue[0]?.expression).toEqual([code]);
      }
    }
  });

  it('leaves out every other R4 search parameter of a served type under lenient handling, with a warning, but _security', async () => {
    for (const type of types) {
      // The access labels are the server's: a search on them is refused, never quietly dropped.
      expect((await get(`/fhir/${type}?_security=x`, 'handling=lenient')).status).toBe(400);
      for (const code of undeclared(type).filter((c) => c !== '_security')) {
        const bundle = await searchset(`/fhir/${type}?${encodeURIComponent(code)}=x&_id=${held[type].id}`);
        const entries = bundle.entry ?? [];
        expect(entries.filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id)).toEqual([held[type].id]);
        const warnings = entries.flatMap((e) =>
          e.search?.mode === 'outcome' ? (e.resource as OperationOutcome).issue : [],
        );
        expect(
          warnings.map((i) => [i.severity, i.expression]),
          `${type}?${code}`,
        ).toEqual([['warning', [code]]]);
      }
    }
  });
});

/** The R4 search parameters of a type that the rules do not declare. */
function undeclared(type: SearchableType): string[] {
  const names = new Set(Object.keys(SEARCH_RULES[type].params));
  const others = Object.keys(globalSchema.types[type]?.searchParams ?? {}).filter((code) => !names.has(code));
  expect(others.length).toBeGreaterThan(5);
  return others;
}

interface Variant {
  type: SearchableType;
  key: string;
  match: string;
  miss: string;
}

/** For one declared parameter: a query that matches the stored resource and one that does not, per modifier and prefix. */
function variants(type: SearchableType, name: string, rule: ParamRule): Variant[] {
  const values = valuesOf(held[type], type, name);
  const sample = (pick: (v: { type: string; value: unknown }) => string | undefined, what: string): string => {
    for (const v of values) {
      const s = pick(v);
      if (s) return s;
    }
    throw new Error(`The stored ${type} has no ${what} for '${name}': give it one in testing/pathway.ts`);
  };
  const out: Variant[] = [];
  if (rule.type === 'token') {
    const token = sample(tokenOf, 'token');
    out.push({ type, key: name, match: token, miss: otherToken(token) });
    if (rule.modifiers?.includes('not')) out.push({ type, key: `${name}:not`, match: otherToken(token), miss: token });
  } else if (rule.type === 'reference') {
    if (!rule.modifierRequired) {
      const literal = sample((v) => (v.value as { reference?: string }).reference, 'literal reference');
      out.push({ type, key: name, match: literal, miss: `${literal.split('/')[0]}/no-such-id` });
    }
    if (rule.modifiers?.includes('identifier')) {
      const token = sample(
        (v) => tokenOf({ type: 'Identifier', value: (v.value as { identifier?: unknown }).identifier }),
        'identifier',
      );
      out.push({ type, key: `${name}:identifier`, match: token, miss: otherToken(token) });
    }
  } else if (rule.type === 'date') {
    const day = sample(
      (v) => (typeof v.value === 'string' ? new Date(v.value).toISOString().slice(0, 10) : undefined),
      'date',
    );
    out.push({ type, key: name, match: day, miss: '1900-01-01' });
    const byPrefix: Record<string, [string, string]> = {
      eq: [`eq${day}`, 'eq1900-01-01'],
      ge: [`ge${day}`, 'ge2999-01-01'],
      le: [`le${day}`, 'le1900-01-01'],
      gt: ['gt1900-01-01', 'gt2999-01-01'],
      lt: ['lt2999-01-01', 'lt1900-01-01'],
    };
    for (const prefix of rule.prefixes ?? []) {
      const pair = byPrefix[prefix];
      if (!pair) throw new Error(`no sample for the prefix ${prefix}`);
      out.push({ type, key: name, match: pair[0], miss: pair[1] });
    }
  } else {
    throw new Error(`no samples for ${rule.type} parameters yet`);
  }
  return out;
}

function valuesOf(resource: Resource, type: string, name: string): { type: string; value: unknown }[] {
  if (name === '_id') return [{ type: 'id', value: resource.id }];
  if (name === '_lastUpdated') return [{ type: 'instant', value: resource.meta?.lastUpdated }];
  const param = getSearchParameter(type, name);
  if (!param) throw new Error(`${type}.${name} is not an R4 search parameter`);
  return evalFhirPathTyped(getSearchParameterDetails(type, param).parsedExpression, [toTypedValue(resource)]);
}

function tokenOf(v: { type: string; value: unknown }): string | undefined {
  const value = v.value as {
    system?: string;
    value?: string;
    code?: string;
    coding?: { system?: string; code?: string }[];
  };
  if (typeof v.value === 'string') return v.value;
  if (!value) return undefined;
  if (value.coding?.[0]?.code) return `${value.coding[0].system ?? ''}|${value.coding[0].code}`;
  if (value.system && (value.value ?? value.code)) return `${value.system}|${value.value ?? value.code}`;
  return undefined;
}

/** A well-formed token that matches nothing stored: another valid NHS number or ODS code where those are checked. */
function otherToken(token: string): string {
  const bar = token.indexOf('|');
  if (bar < 0) return `not-${token}`;
  const system = token.slice(0, bar);
  const code = token.slice(bar + 1);
  if (system === NHS_NUMBER_SYSTEM) return `${system}|${testNhsNumber(code === testNhsNumber(7) ? 8 : 7)}`;
  if (system === ODS_SYSTEM) return `${system}|ZZZ99`;
  return `${system}|not-${code}`;
}
