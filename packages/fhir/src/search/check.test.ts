import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outcomeErrorOf } from '../testing.ts';
import { testNhsNumber } from '../validation/nhs-number.ts';
import type { SearchHandling } from './check.ts';
import { checkSearch, presentationProblem, searchHandlingOf } from './check.ts';
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
      owner: { type: 'reference', modifiers: ['identifier'], chains: { identifier: 'as-identifier' } },
      focus: { type: 'reference' },
      patient: { type: 'reference', chains: { identifier: 'resolved' } },
      'authored-on': { type: 'date', prefixes: ['ge', 'lt'] },
      _lastUpdated: { type: 'date' },
    },
    includes: { 'Task:focus:ServiceRequest': ['ServiceRequest'] },
  },
  Patient: {
    params: { identifier: { type: 'token' }, name: { type: 'string', modifiers: ['exact'] } },
    revincludes: ['Task:patient'],
  },
} as const satisfies SearchRules;

const check = (query: string, type: 'Task' | 'Patient' = 'Task', handling: SearchHandling = 'strict') =>
  checkSearch(RULES, type, new URLSearchParams(query), { handling });

async function refusal(query: string, type: 'Task' | 'Patient' = 'Task', handling: SearchHandling = 'strict') {
  const err = await outcomeErrorOf((async () => check(query, type, handling))());
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
    ['an undeclared _revinclude', '_revinclude=Task:focus', '_revinclude', 'none is supported'],
    ['_contained', '_contained=true', '_contained', 'contained'],
    ['_filter', '_filter=status eq active', '_filter', '_filter'],
    ['_query', '_query=anything', '_query', '_query'],
    ['the access filter', '_security=x|N81002', '_security', 'not searchable'],
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
    ['passes paging parameters unchanged', '_count= 5&_total=none&_offset=x', '_count=+5&_total=none&_offset=x'],
    ['takes a declared _include', '_include=Task:focus:ServiceRequest', '_include=Task%3Afocus%3AServiceRequest'],
  ])('%s', (_name, query, expected) => {
    expect(check(query).params.toString()).toBe(new URLSearchParams(expected).toString());
  });

  it('takes a string parameter with its declared modifier, and refuses another', async () => {
    expect(check('name:exact= Smith ', 'Patient').params.get('name:exact')).toBe('Smith');
    expect((await refusal('name:contains=Smi', 'Patient'))[0]?.expression).toEqual(['name']);
  });

  it('takes true or false for a parameter on a boolean element, and refuses anything else there', async () => {
    const rules = {
      Patient: { params: { active: { type: 'token', modifiers: ['not'] }, identifier: { type: 'token' } } },
    } as const satisfies SearchRules;
    const search = (query: string) => checkSearch(rules, 'Patient', new URLSearchParams(query));
    expect(search('active=true,false&active:not=false').params.toString()).toBe(
      new URLSearchParams('active=true,false&active:not=false').toString(),
    );
    for (const value of ['maybe', 'TRUE', '1', 'x|true', 'true,no']) {
      for (const key of ['active', 'active:not']) {
        const err = await outcomeErrorOf((async () => search(`${key}=${value}`))());
        expect(
          err.outcome.issue.map((i) => [i.code, i.expression?.[0]]),
          `${key}=${value}`,
        ).toEqual([['value', 'active']]);
      }
    }
    // A token on any other element takes any code.
    expect(search('identifier=maybe').params.get('identifier')).toBe('maybe');
  });

  it('lists the types its _includes can bring in', () => {
    expect(check('_include=Task:focus:ServiceRequest').includedTypes).toEqual(['ServiceRequest']);
    expect(check('status=x').includedTypes).toEqual([]);
  });
});

describe('checkSearch: what it answers beyond the parameters', () => {
  const applied = (query: string, type: 'Task' | 'Patient' = 'Task') => check(query, type).applied.toString();
  const store = (query: string, type: 'Task' | 'Patient' = 'Task') => check(query, type).params.toString();
  const q = (query: string) => new URLSearchParams(query).toString();

  it.each([
    ['a date, descending', '_sort=-authored-on', '_sort=-authored-on'],
    ['a token, then _lastUpdated', '_sort= status , _lastUpdated', '_sort=status,_lastUpdated'],
  ])('_sort by %s, for the store and the self link', (_name, query, expected) => {
    expect(store(query)).toBe(q(expected));
    expect(applied(query)).toBe(q(expected));
  });

  it.each([
    ['a reference (HAPI orders it by its own key)', '_sort=focus', '_sort'],
    ['_id (HAPI orders it by its own key)', '_sort=-_id', '_sort'],
    ['an undeclared parameter', '_sort=priority', '_sort'],
    ['a modifier on _sort', '_sort:desc=status', '_sort'],
  ])('refuses _sort by %s under strict handling', async (_name, query, expression) => {
    const [problem, ...more] = await refusal(query);
    expect(more).toEqual([]);
    expect(problem?.expression).toEqual([expression]);
  });

  it("_summary=count is the store's; true, text and data shape the matches; false changes nothing", () => {
    expect(store('_summary=count&status=x')).toBe(q('_summary=count&status=x'));
    expect(check('_summary=count').subset).toBeUndefined();
    for (const summary of ['true', 'text', 'data'] as const) {
      const search = check(`_summary=${summary}&status=x`);
      expect(search.params.toString()).toBe(q('status=x'));
      expect(search.subset).toEqual({ summary });
      expect(search.applied.toString()).toBe(q(`_summary=${summary}&status=x`));
    }
    expect(check('_summary=false').subset).toBeUndefined();
    expect(applied('_summary=false')).toBe(q('_summary=false'));
  });

  it('_count=0 is _summary=count (R4 search.html#count): the store is asked for the total, the self link shows _count=0', () => {
    for (const handling of ['strict', 'lenient'] as const) {
      const search = check('status=x&_count=0&_offset=3', 'Task', handling);
      expect(search.params.toString()).toBe(q('status=x&_offset=3&_summary=count'));
      expect(search.applied.toString()).toBe(q('status=x&_count=0&_offset=3'));
      expect(search.subset).toBeUndefined();
      expect(search.ignored).toEqual([]);
    }
    expect(store('_count=00')).toBe(q('_summary=count'));
    // With _summary=count as well, the store is asked once.
    expect(store('_summary=count&_count=0')).toBe(q('_summary=count'));
    expect(store('_count=0&_summary=count')).toBe(q('_summary=count'));
    // Given twice it is no question of the total: left to the paging bounds, which refuse it.
    expect(store('_count=0&_count=0')).toBe(q('_count=0&_count=0'));
    expect(store('_count=5')).toBe(q('_count=5'));
  });

  it('_elements shapes the matches, names elements of the type (Type.name too), and never reaches the store', () => {
    const search = check('_elements=status, Task.owner&_elements=for,status');
    expect(search.subset).toEqual({ elements: ['status', 'owner', 'for'] });
    expect(search.params.toString()).toBe('');
    expect(search.applied.toString()).toBe(q('_elements=status,owner&_elements=for,status'));
  });

  it('an _elements element the type does not have is a bad value under either handling', async () => {
    for (const handling of ['strict', 'lenient'] as const) {
      const [problem] = await refusal('_elements=status,colour', 'Task', handling);
      expect(problem?.expression).toEqual(['_elements']);
      expect(problem?.details?.text).toContain("'colour' is not an element of Task");
    }
  });

  it.each([
    ['_summary twice', '_summary=true&_summary=count', '_summary'],
    ['a _summary value R4 does not have', '_summary=some', '_summary'],
    ['_summary with _elements', '_summary=true&_elements=status', '_elements'],
    ['_summary=count with _elements', '_summary=count&_elements=status', '_elements'],
    ['_count=0 with _summary=true', '_count=0&_summary=true', '_count'],
    ['_count=0 after _summary=text', '_summary=text&_count=0', '_count'],
    ['_count=0 with _summary=false', '_count=0&_summary=false', '_count'],
    ['_count=0 with _elements', '_count=0&_elements=status', '_count'],
    ['_sort twice', '_sort=status&_sort=authored-on', '_sort'],
    ['an empty _sort key', '_sort=status,,authored-on', '_sort'],
    ['a _total R4 does not have', '_total=some', '_total'],
    ['_total twice', '_total=none&_total=accurate', '_total'],
    ['_page twice', '_page=a&_page=b', '_page'],
  ])('refuses %s under either handling', async (_name, query, expression) => {
    for (const handling of ['strict', 'lenient'] as const) {
      const [problem, ...more] = await refusal(query, 'Task', handling);
      expect(more).toEqual([]);
      expect(problem?.expression).toEqual([expression]);
    }
  });

  it('takes a declared _revinclude, listing the type it brings in', () => {
    const search = check('_revinclude=Task:patient', 'Patient');
    expect(search.params.toString()).toBe(q('_revinclude=Task:patient'));
    expect(search.includedTypes).toEqual(['Task']);
  });

  it('answers a declared .identifier chain as the :identifier modifier, its value checked', async () => {
    const ods = 'https://fhir.nhs.uk/Id/ods-organization-code';
    const search = check(`owner.identifier=${ods}|rm1`);
    expect(search.params.toString()).toBe(q(`owner:identifier=${ods}|RM1`));
    expect(search.applied.toString()).toBe(q(`owner:identifier=${ods}|RM1`));
    expect(search.chains).toEqual([]);
    expect((await refusal(`owner.identifier=${ods}|R-1`, 'Task', 'lenient'))[0]?.expression).toEqual([
      'owner.identifier',
    ]);
  });

  it('leaves a resolved chain to the caller, as a search of the one target type, checked by its rules', async () => {
    const search = check(`patient.identifier=${NHS}| ${testNhsNumber(2)}&status=x`);
    expect(search.params.toString()).toBe(q('status=x'));
    expect(search.chains).toEqual([
      {
        param: 'patient',
        target: 'Patient',
        query: new URLSearchParams([['identifier', `${NHS}|${testNhsNumber(2)}`]]),
      },
    ]);
    expect(search.applied.toString()).toBe(q(`patient.identifier=${NHS}|${testNhsNumber(2)}&status=x`));
    const [problem] = await refusal(`patient.identifier=${NHS}|1234567890`, 'Task', 'lenient');
    expect(problem?.details?.text).toContain('Modulus 11');
  });

  it.each([
    ['reverse chaining', '_has:ServiceRequest:subject:_security=x|N81002', '_has'],
    ['an undeclared chain', 'focus.status=active', 'focus.status'],
    ['a chain declared on another parameter', 'owner.name=x', 'owner.name'],
    ['a typed chain', 'patient:Patient.identifier=x', 'patient'],
    ['a chain of chains', 'patient.organization.identifier=x', 'patient.organization.identifier'],
    ['a modifier on a chain', 'owner.identifier:not=x', 'owner.identifier'],
    ['the access labels', '_security=x|N81002', '_security'],
    ['a modifier not allowed on a declared parameter', 'status:missing=true', 'status'],
    ['a declared parameter without its required modifier', 'focus:identifier=x', 'focus'],
    ['a malformed value', 'authored-on=2026-02-30', 'authored-on'],
    ['XML', '_format=xml', '_format'],
    ['a modifier on _count', '_count:x=5', '_count'],
  ])('refuses %s under lenient handling too', async (_name, query, expression) => {
    const [problem, ...more] = await refusal(query, 'Task', 'lenient');
    expect(more).toEqual([]);
    expect(problem?.expression).toEqual([expression]);
  });

  it.each([
    ['an unknown parameter', 'colour=blue&status=x', 'status=x', ['colour']],
    ['a parameter R4 has and the rules do not', 'code=x&status=x', 'status=x', ['code']],
    ['_filter and _contained', '_filter=a&_contained=true&status=x', 'status=x', ['_filter', '_contained']],
    ['an undeclared _include', '_include=Task:owner&status=x', 'status=x', ['_include']],
    ['_include:iterate', '_include:iterate=Task:focus:ServiceRequest', '', ['_include']],
    ['an unsortable _sort key, keeping the others', '_sort=focus,-status', '_sort=-status', ['_sort']],
    ['_elements:exclude', '_elements:exclude=status', '', ['_elements']],
    ['an empty name', '=x&status=x', 'status=x', ['(empty)']],
  ])('under lenient handling, leaves out %s with a warning, and applies the rest', (_name, query, kept, left) => {
    const search = check(query, 'Task', 'lenient');
    expect(search.applied.toString()).toBe(q(kept));
    expect(search.params.toString()).toBe(q(kept));
    expect(search.ignored.map((i) => [i.severity, i.expression?.[0]])).toEqual(left.map((l) => ['warning', l]));
  });

  it('answers an _include without its target type for the declared targets, and says so', () => {
    const search = check('_include=Task:focus&status=x', 'Task', 'lenient');
    expect(search.params.toString()).toBe(q('_include=Task:focus:ServiceRequest&status=x'));
    expect(search.applied.toString()).toBe(q('_include=Task:focus:ServiceRequest&status=x'));
    expect(search.includedTypes).toEqual(['ServiceRequest']);
    expect(search.ignored.map((i) => [i.severity, i.expression?.[0], i.diagnostics])).toEqual([
      ['information', '_include', '_include=Task:focus is answered on Task for Task:focus:ServiceRequest only'],
    ]);
  });

  it('refuses an _include without its target type under strict handling, naming the typed form', async () => {
    const [problem, ...more] = await refusal('_include=Task:focus');
    expect(more).toEqual([]);
    expect(problem?.expression).toEqual(['_include']);
    expect(problem?.diagnostics).toContain('ask for it by type');
  });

  it('asks the store only for declared _includes, whatever _include values are sent', () => {
    const part = fc.oneof(
      fc.constantFrom('Task', 'focus', 'ServiceRequest', 'owner', 'Patient', '', '*', 'toString', '__proto__'),
      fc.string({ maxLength: 6 }),
    );
    const value = fc.array(part, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(':'));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 3 }), (values) => {
        const query = new URLSearchParams(values.map((v): [string, string] => ['_include', v]));
        const search = checkSearch(RULES, 'Task', query, { handling: 'lenient' });
        for (const asked of search.params.getAll('_include')) expect(asked).toBe('Task:focus:ServiceRequest');
        expect(search.params.getAll('_include')).toEqual(search.applied.getAll('_include'));
        // Each value sent is applied as declared, answered in part (said), or left out (said).
        const answered = values.filter((v) => v.trim() === 'Task:focus:ServiceRequest').length;
        expect(search.ignored.length).toBe(values.length - answered);
      }),
    );
  });

  it('does not read a typed _include of another parameter or target as a declared one', async () => {
    for (const query of ['_include=Task:owner', '_include=Task:focu', '_include=Task:focus:Patient']) {
      const search = check(query, 'Task', 'lenient');
      expect(search.params.toString()).toBe('');
      expect(search.ignored.map((i) => i.severity)).toEqual(['warning']);
    }
  });

  it('leaves nothing out under strict handling: the same queries are refused', async () => {
    const issues = await refusal('colour=blue&_include=Task:owner&_sort=focus');
    expect(issues.map((i) => [i.severity, i.expression?.[0]])).toEqual([
      ['error', 'colour'],
      ['error', '_include'],
      ['error', '_sort'],
    ]);
  });
});

// As clients write them: a literal + in a query string reads as a space (HAPI's client sends
// application/fhir+json so), and a media type may carry parameters.
describe('_format', () => {
  it.each([
    ['application/fhir+json with a literal +', '_format=application/fhir+json'],
    ['application/json+fhir with a literal +', '_format=application/json+fhir'],
    ['a media type with a parameter', '_format=application/fhir%2Bjson;%20fhirVersion=4.0'],
    ['a literal + and a parameter', '_format=application/fhir+json;+fhirVersion=4.0'],
    ['json with spaces around it', '_format=%20json%20'],
    ['JSON in capitals', '_format=Application/FHIR%2BJSON'],
  ])('takes %s as JSON, and drops it', (_name, query) => {
    expect(check(`${query}&status=x`).params.toString()).toBe('status=x');
  });

  it.each([['application/fhir json'], ['application/fhir+json; fhirVersion=4.0'], [' json']])(
    'presentationProblem takes %j',
    (value) => {
      expect(presentationProblem('_format', undefined, value)).toBeUndefined();
    },
  );

  it.each([['xml'], ['application/fhir+xml'], ['application/fhir xml'], ['text/html; json'], ['']])(
    'still refuses %j',
    async (value) => {
      expect(presentationProblem('_format', undefined, value)).toMatch(/only JSON/);
      const [problem] = await refusal(new URLSearchParams({ _format: value }).toString());
      expect(problem?.expression).toEqual(['_format']);
    },
  );
});

describe('searchHandlingOf', () => {
  it.each([
    [undefined, 'lenient'],
    ['', 'lenient'],
    ['handling=strict', 'strict'],
    ['HANDLING = Strict', 'strict'],
    ['return=minimal, handling=strict', 'strict'],
    ['respond-async; handling=strict; wait=10', 'strict'],
    ['handling=lenient', 'lenient'],
    ['handling=careful', 'lenient'],
    ['mishandling=strict', 'lenient'],
  ])('Prefer: %s is %s', (prefer, handling) => {
    expect(searchHandlingOf(prefer)).toBe(handling);
  });
});

describe('searchCapability', () => {
  it('declares each parameter with its type and what it accepts, then _sort, _summary and _elements', () => {
    const capability = searchCapability(RULES, 'Task');
    expect(capability.searchInclude).toEqual(['Task:focus:ServiceRequest']);
    expect(capability.searchRevInclude).toEqual([]);
    expect(searchCapability(RULES, 'Patient').searchRevInclude).toEqual(['Task:patient']);
    expect(capability.searchParams.map((p) => [p.name, p.type])).toEqual([
      ['_id', 'token'],
      ['identifier', 'token'],
      ['status', 'token'],
      ['owner', 'reference'],
      ['focus', 'reference'],
      ['patient', 'reference'],
      ['authored-on', 'date'],
      ['_lastUpdated', 'date'],
      ['_sort', 'special'],
      ['_summary', 'special'],
      ['_elements', 'special'],
    ]);
    const documentation = (name: string) => capability.searchParams.find((p) => p.name === name)?.documentation;
    expect(documentation('owner')).toBe('Modifiers: :identifier. Chains: .identifier.');
    expect(documentation('authored-on')).toBe('Prefixes: ge, lt.');
    expect(documentation('_sort')).toContain('identifier, status, authored-on, _lastUpdated;');
    expect(documentation('_summary')).toContain('true, text, data, count, false');
  });
});

describe('ruleProblems', () => {
  it('finds nothing wrong with coherent rules', () => {
    expect(ruleProblems(RULES)).toEqual([]);
  });

  it('finds parameters R4 does not have or types differently, bad modifiers, prefixes, chains and includes', () => {
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
      ServiceRequest: {
        params: {
          performer: { type: 'reference', chains: { identifier: 'as-identifier' } },
          requester: { type: 'reference', modifiers: ['identifier'], chains: { name: 'as-identifier' } },
          subject: { type: 'reference', chains: { identifier: 'resolved' } },
          patient: { type: 'reference', chains: { name: 'resolved' } },
          status: { type: 'token', chains: { code: 'resolved' } },
        },
        revincludes: ['Task:focus', 'Task:owner', 'Task:focus:Patient', 'Task:status'],
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
        'ServiceRequest.performer.identifier: ServiceRequest.performer takes no :identifier',
        'ServiceRequest.requester.name: only .identifier can stand for :identifier',
        'ServiceRequest.subject.identifier: ServiceRequest.subject points to several types, so nothing says which to search',
        'ServiceRequest.patient.name: Patient.name is not a declared search of Patient',
        'ServiceRequest.status.code: only a reference parameter can be chained',
        'ServiceRequest: _revinclude=Task:owner cannot point to ServiceRequest',
        'ServiceRequest: _revinclude=Task:focus:Patient names another target than ServiceRequest',
        'ServiceRequest: _revinclude=Task:status is not <type>:<reference parameter>[:ServiceRequest]',
      ]),
    );
  });
});
