import { describe, expect, it } from 'vitest';
import { outcomeErrorOf } from '../testing.ts';
import { testNhsNumber } from '../validation/nhs-number.ts';
import { checkSearch } from './check.ts';
import type { SearchRules } from './rules.ts';
import { ruleProblems, searchCapability } from './rules.ts';

const NHS = 'https://fhir.nhs.uk/Id/nhs-number';
const ODS = 'https://fhir.nhs.uk/Id/ods-organization-code';

const RULES = {
  Task: {
    params: {
      _id: { type: 'token' },
      identifier: { type: 'token' },
      status: { type: 'token', modifiers: ['not'] },
      owner: { type: 'reference', modifiers: ['identifier'] },
      focus: { type: 'reference' },
      patient: { type: 'reference' },
      'authored-on': { type: 'date', prefixes: ['ge', 'lt'] },
    },
    includes: { 'Task:focus:ServiceRequest': ['ServiceRequest'] },
  },
  Patient: { params: { identifier: { type: 'token' }, name: { type: 'string', modifiers: ['exact'] } } },
} as const satisfies SearchRules;

const check = (query: string, type: 'Task' | 'Patient' = 'Task') =>
  checkSearch(RULES, type, new URLSearchParams(query));

async function refusal(query: string, type: 'Task' | 'Patient' = 'Task') {
  const err = await outcomeErrorOf((async () => check(query, type))());
  expect(err.status).toBe(400);
  return err.outcome.issue;
}

describe('checkSearch', () => {
  it.each([
    ['an unknown parameter', 'colour=blue', 'colour', 'not supported on Task'],
    ['a modifier not allowed on the parameter', '_id:contains=a', '_id', 'Modifier :contains'],
    ['a modifier allowed on another parameter', 'identifier:not=x|y', 'identifier', 'Modifier :not'],
    ['a modifier the stores answer differently', 'status:missing=true', 'status', 'Modifier :missing'],
    ['reverse chaining', '_has:ServiceRequest:subject:_security=x|N81002', '_has', '_has'],
    ['a chain', 'focus.status=active', 'focus.status', 'chained'],
    ['a typed chain', 'focus:ServiceRequest.status=active', 'focus', 'chained'],
    ['_revinclude', '_revinclude=Task:focus', '_revinclude', '_revinclude'],
    ['_contained', '_contained=true', '_contained', 'contained'],
    ['_filter', '_filter=status eq active', '_filter', '_filter'],
    ['_query', '_query=anything', '_query', '_query'],
    ['_summary', '_summary=true', '_summary', '_summary'],
    ['the access filter', '_security=x|N81002', '_security', 'not supported'],
    ['XML', '_format=xml', '_format', 'only JSON'],
    ['an undeclared _include', '_include=Task:owner', '_include', 'Task:focus:ServiceRequest'],
    ['an _include wildcard', '_include=*', '_include', 'not supported'],
    ['_include:iterate', '_include:iterate=Task:focus:ServiceRequest', '_include', ':iterate'],
    ['a modifier on a result parameter', '_count:x=5', '_count', 'no modifier'],
    ['an empty value', 'status=', 'status', 'needs a value'],
    ['an empty alternative', 'status=a,,b', 'status', 'empty value'],
    ['an NHS number failing Modulus 11', `identifier=${NHS}|1234567890`, 'identifier', 'Modulus 11'],
    ['an NHS number of 9 digits', `identifier=${NHS}|943476591`, 'identifier', 'Modulus 11'],
    ['an NHS number with spaces inside', `identifier=${NHS}|943 476 5919`, 'identifier', 'Modulus 11'],
    ['an ODS code with punctuation', `owner:identifier=${ODS}|RM-1`, 'owner', 'ODS code'],
    ['an absolute reference', 'focus=http://elsewhere.test/fhir/ServiceRequest/1', 'focus', 'Type/id'],
    ['a reference to a type the parameter cannot point to', 'owner=Endpoint/1', 'owner', 'not Endpoint'],
    ['a malformed id', '_id=a/b', '_id', 'an id is'],
    ['a bare id where the parameter points to several types', 'focus=a1', 'focus', 'give Type/id'],
    ['an impossible date', 'authored-on=2026-02-30', 'authored-on', 'a date is'],
    ['a time without a zone', 'authored-on=ge2026-01-05T09:30:00', 'authored-on', 'a date is'],
    ['a time without seconds', 'authored-on=ge2026-01-05T09:30Z', 'authored-on', 'a date is'],
    ['a prefix not allowed', 'authored-on=sa2026-01-05', 'authored-on', 'prefix sa'],
    ['a value too long', `status=${'x'.repeat(1025)}`, 'status', 'longer than'],
    ['a name Object has', 'constructor=x', 'constructor', 'not supported on Task'],
    ['an _include Object has', '_include=toString', '_include', 'not supported on Task'],
  ])('refuses %s, naming the parameter', async (_name, query, expression, text) => {
    const [problem, ...more] = await refusal(query);
    expect(more).toEqual([]);
    expect(problem?.expression).toEqual([expression]);
    expect(problem?.details?.text).toContain(text);
  });

  it('names every problem of a query, one issue each', async () => {
    const issues = await refusal('colour=blue&status=requested&_id:contains=a&_format=xml');
    expect(issues.map((i) => i.expression?.[0])).toEqual(['colour', '_id', '_format']);
  });

  it('refuses a type it has no rules for', async () => {
    const err = await outcomeErrorOf((async () => checkSearch(RULES, 'Observation', new URLSearchParams()))());
    expect(err.status).toBe(400);
  });

  it.each([
    ['trims an NHS number', `identifier=${NHS}| ${testNhsNumber(0)} `, `identifier=${NHS}|${testNhsNumber(0)}`],
    ['trims around the bar', `identifier= ${NHS} |${testNhsNumber(1)}`, `identifier=${NHS}|${testNhsNumber(1)}`],
    ['upper-cases an ODS code', `owner:identifier=${ODS}|rm1`, `owner:identifier=${ODS}|RM1`],
    [
      'checks each alternative',
      `identifier=${NHS}|${testNhsNumber(0)}, ${NHS}|${testNhsNumber(1)}`,
      `identifier=${NHS}|${testNhsNumber(0)},${NHS}|${testNhsNumber(1)}`,
    ],
    ['keeps other systems as they are', 'identifier=urn:x|Ab c', 'identifier=urn:x|Ab c'],
    ['keeps a system named like something of Object', 'identifier=constructor|x', 'identifier=constructor|x'],
    ['keeps a code without a system', 'status=requested', 'status=requested'],
    ['takes a declared modifier', 'status:not=completed', 'status:not=completed'],
    [
      'takes a declared prefix, and a bare date',
      'authored-on=ge2026-01-05&authored-on=2026',
      'authored-on=ge2026-01-05&authored-on=2026',
    ],
    [
      'takes a full instant',
      'authored-on=lt2026-01-05T09:30:00.5%2B01:00',
      'authored-on=lt2026-01-05T09:30:00.5%2B01:00',
    ],
    ['takes Type/id', 'focus=ServiceRequest/a-1', 'focus=ServiceRequest/a-1'],
    ['writes a bare id as Type/id where the parameter points to one type', 'patient=b.2', 'patient=Patient/b.2'],
    ['drops _format=json and _pretty', '_format=application/fhir%2Bjson&_pretty=true&status=x', 'status=x'],
    [
      'passes result parameters unchanged',
      '_count= 5&_sort=-_lastUpdated&_total=none&_offset=x',
      '_count=+5&_sort=-_lastUpdated&_total=none&_offset=x',
    ],
    ['takes a declared _include', '_include=Task:focus:ServiceRequest', '_include=Task%3Afocus%3AServiceRequest'],
  ])('%s', (_name, query, expected) => {
    expect(check(query).params.toString()).toBe(new URLSearchParams(expected).toString());
  });

  it('takes a string parameter with its declared modifier, and refuses another', async () => {
    expect(check('name:exact= Smith ', 'Patient').params.get('name:exact')).toBe('Smith');
    expect((await refusal('name:contains=Smi', 'Patient'))[0]?.expression).toEqual(['name']);
  });

  it('lists the types its _includes can bring in', () => {
    expect(check('_include=Task:focus:ServiceRequest').includedTypes).toEqual(['ServiceRequest']);
    expect(check('status=x').includedTypes).toEqual([]);
  });
});

describe('searchCapability', () => {
  it('declares each parameter with its type and what it accepts, and each _include', () => {
    const capability = searchCapability(RULES, 'Task');
    expect(capability.searchInclude).toEqual(['Task:focus:ServiceRequest']);
    expect(capability.searchParams.map((p) => [p.name, p.type])).toEqual([
      ['_id', 'token'],
      ['identifier', 'token'],
      ['status', 'token'],
      ['owner', 'reference'],
      ['focus', 'reference'],
      ['patient', 'reference'],
      ['authored-on', 'date'],
    ]);
    expect(capability.searchParams.find((p) => p.name === 'owner')?.documentation).toBe('Modifiers: :identifier.');
    expect(capability.searchParams.find((p) => p.name === 'authored-on')?.documentation).toBe('Prefixes: ge, lt.');
  });
});

describe('ruleProblems', () => {
  it('finds nothing wrong with coherent rules', () => {
    expect(ruleProblems(RULES)).toEqual([]);
  });

  it('finds parameters R4 does not have or types differently, bad modifiers, prefixes and includes', () => {
    const problems = ruleProblems({
      Task: {
        params: {
          colour: { type: 'token' },
          owner: { type: 'token' },
          focus: { type: 'reference', modifiers: ['identifier', 'exact'] },
          status: { type: 'token', prefixes: ['ge'] },
          _count: { type: 'token' },
        },
        includes: { 'Task:focus': ['ServiceRequest'], 'Task:status': ['Patient'], 'Task:owner': ['Endpoint'] },
      },
    } as unknown as SearchRules);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Task.colour is not an R4 search parameter of Task',
        'Task.owner is a reference parameter in R4',
        'Task.focus: :exact does not apply to a reference parameter',
        'Task.focus:identifier has no SearchParameter standing in for it on HAPI',
        'Task.status: prefixes apply to date parameters only',
        'Task._count is a result parameter, passed through anyway',
        'Task: _include=Task:focus can bring in Patient too',
        'Task: _include=Task:status is not Task:<reference parameter>[:<target type>]',
        'Task: _include=Task:owner cannot bring in Endpoint',
      ]),
    );
  });
});
