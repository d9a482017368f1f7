import { describe, expect, it } from 'vitest';
import { baseFindings } from './base.ts';
import { expansionOf } from './required-bindings.ts';

const brief = (issues: { code: string; expression?: string[] }[]) => issues.map((i) => [i.code, i.expression?.[0]]);

describe('base R4 structure (Medplum)', () => {
  it('finds nothing wrong with a minimal valid resource', () => {
    expect(baseFindings({ resourceType: 'Task', status: 'requested', intent: 'order' })).toEqual({
      structure: [],
      codes: [],
      references: [],
    });
  });

  it('collects every structural problem, each with its expression', () => {
    const { structure } = baseFindings({ resourceType: 'Task', status: 'requested', foo: 1, authoredOn: 'yesterday' });
    expect(brief(structure)).toEqual(
      expect.arrayContaining([
        ['structure', 'Task.intent'],
        ['structure', 'Task.foo'],
        ['structure', 'Task.authoredOn'],
      ]),
    );
    expect(structure).toHaveLength(3);
  });

  it('rejects what is not a resource', () => {
    for (const bad of [null, 'Patient', 42, [], {}, { resourceType: 7 }]) {
      expect(brief(baseFindings(bad).structure)).toEqual([['structure', 'resourceType']]);
    }
    expect(brief(baseFindings({ resourceType: 'Pateint' }).structure)).toEqual([['structure', 'resourceType']]);
  });

  it("raises Medplum's reference-type warnings to errors, kept apart from structure", () => {
    const found = baseFindings({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: 'Endpoint/1' },
    });
    expect(found.structure).toEqual([]);
    expect(found.references.map((i) => [i.severity, i.code, i.expression?.[0]])).toEqual([
      ['error', 'business-rule', 'Communication.subject'],
    ]);
  });

  it('checks the id format, which Medplum leaves alone', () => {
    expect(brief(baseFindings({ resourceType: 'Patient', id: 'not ok!' }).structure)).toEqual([
      ['structure', 'Patient.id'],
    ]);
    expect(baseFindings({ resourceType: 'Patient', id: 'a-B.9' }).structure).toEqual([]);
  });
});

describe('what Medplum lets through and readers trip on', () => {
  it('refuses elements named after what every JavaScript object inherits, at any depth', () => {
    const resource = JSON.parse(
      '{"resourceType":"Task","status":"requested","intent":"order","__proto__":{"polluted":1},' +
        '"constructor":{"prototype":{}},"note":[{"text":"x","toString":"y"}],"owner":{"hasOwnProperty":1}}',
    );
    expect(brief(baseFindings(resource).structure)).toEqual(
      expect.arrayContaining([
        ['structure', 'Task.__proto__'],
        ['structure', 'Task.constructor'],
        ['structure', 'Task.note[0].toString'],
        ['structure', 'Task.owner.hasOwnProperty'],
      ]),
    );
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('refuses a number or a boolean where R4 has an object, in a resource, a backbone, a choice or a message entry', () => {
    const task = { resourceType: 'Task', status: 'requested', intent: 'order' };
    const cases: [object, string][] = [
      [{ ...task, owner: 7 }, 'Task.owner'],
      [{ ...task, output: [{ type: { text: 'r' }, valueReference: true }] }, 'Task.output[0].valueReference'],
      [{ ...task, basedOn: [{ reference: 'ServiceRequest/1' }, 5] }, 'Task.basedOn[1]'],
      [{ ...task, requester: { identifier: 7 } }, 'Task.requester.identifier'],
      [
        { resourceType: 'Bundle', type: 'message', entry: [{ fullUrl: 'urn:uuid:1', resource: { ...task, for: 3 } }] },
        'Bundle.entry[0].resource.for',
      ],
    ];
    for (const [resource, at] of cases) {
      const found = brief(baseFindings(resource).structure);
      expect(
        found.filter(([, where]) => where?.startsWith(at.split('.').slice(0, -1).join('.'))),
        at,
      ).toEqual([['structure', at]]);
    }
  });

  it('refuses text with a lone surrogate or a control character, and keeps overrides, emoji, marks and line breaks', () => {
    const named = (family: string) =>
      brief(baseFindings({ resourceType: 'Patient', name: [{ family, given: ['ok'] }] }).structure);
    for (const bad of ['half \ud800 a pair', '\udc00', 'Nul\u0000', 'Bell\u0007'])
      expect(named(bad), JSON.stringify(bad)).toEqual([['structure', 'Patient.name[0].family']]);
    expect(named('\u202eKCUS 🩻 Ž̷a\tb\nc')).toEqual([]);
  });

  it('leaves primitives, primitive choices and their extensions alone', () => {
    const { structure } = baseFindings({
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      _status: { extension: [{ url: 'https://example.org/x', valueBoolean: true }] },
      input: [
        { type: { text: 'n' }, valueInteger: 3 },
        { type: { text: 's' }, valueString: 'x' },
      ],
    });
    expect(structure).toEqual([]);
  });
});

describe('required bindings', () => {
  it('flags a code outside its required value set', () => {
    const { codes } = baseFindings({ resourceType: 'Task', status: 'bogus', intent: 'order' });
    expect(brief(codes)).toEqual([['code-invalid', 'Task.status']]);
    expect(codes[0]?.details?.text).toContain('task-status');
  });

  it('checks required bindings anywhere in the resource, including data types', () => {
    const { codes } = baseFindings({
      resourceType: 'Patient',
      gender: 'x',
      identifier: [{ use: 'nope', value: '1' }],
      telecom: [{ system: 'pager-ish', value: '1' }],
    });
    expect(brief(codes)).toEqual(
      expect.arrayContaining([
        ['code-invalid', 'Patient.gender'],
        ['code-invalid', 'Patient.identifier[0].use'],
        ['code-invalid', 'Patient.telecom[0].system'],
      ]),
    );
    expect(codes).toHaveLength(3);
  });

  it('checks CodeableConcepts bound to a required value set by system and code', () => {
    const allergy = (system: string, code: string) => ({
      resourceType: 'AllergyIntolerance',
      patient: { reference: 'Patient/1' },
      clinicalStatus: { coding: [{ system, code }] },
    });
    expect(
      baseFindings(allergy('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active')).codes,
    ).toEqual([]);
    expect(
      brief(baseFindings(allergy('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'bogus')).codes),
    ).toEqual([['code-invalid', 'AllergyIntolerance.clinicalStatus']]);
    expect(brief(baseFindings(allergy('http://example.org/other', 'active')).codes)).toEqual([
      ['code-invalid', 'AllergyIntolerance.clinicalStatus'],
    ]);
  });

  it('passes every valid code of a bound value set, including nested ones', () => {
    for (const intent of ['order', 'original-order', 'filler-order', 'instance-order']) {
      expect(
        baseFindings({ resourceType: 'ServiceRequest', status: 'active', intent, subject: { reference: 'Patient/1' } })
          .codes,
      ).toEqual([]);
    }
  });

  it('leaves value sets it cannot expand locally to the server (MIME types are not checked)', () => {
    expect(expansionOf('http://hl7.org/fhir/ValueSet/mimetypes')).toBeUndefined();
    expect(baseFindings({ resourceType: 'Binary', contentType: 'not a mime type' }).codes).toEqual([]);
  });

  it('expands by url with or without version', () => {
    expect([...(expansionOf('http://hl7.org/fhir/ValueSet/request-priority|4.0.1')?.codes ?? [])]).toEqual([
      'routine',
      'urgent',
      'asap',
      'stat',
    ]);
    expect(
      expansionOf('http://hl7.org/fhir/ValueSet/request-priority')?.codings.has(
        'http://hl7.org/fhir/request-priority|stat',
      ),
    ).toBe(true);
    expect(expansionOf('http://example.org/no-such-value-set')).toBeUndefined();
  });
});

describe('the same content checked again', () => {
  const malformed = () => ({ resourceType: 'Patient', gender: 'often', colour: 'blue' });

  it('finds what the first check found, and a caller changing its findings changes nothing for the next', () => {
    const first = baseFindings(malformed());
    expect(first.structure.map((i) => i.expression?.[0])).toContain('Patient.colour');
    expect(first.codes.map((i) => i.expression?.[0])).toEqual(['Patient.gender']);
    const expected = structuredClone(first);
    first.structure.length = 0;
    (first.codes[0] as { diagnostics?: string }).diagnostics = 'changed by a caller';
    expect(baseFindings(malformed())).toEqual(expected);
  });

  it('checks changed content afresh', () => {
    expect(baseFindings({ ...malformed(), gender: 'female' }).codes).toEqual([]);
  });
});

describe('a Bundle carrying resources', () => {
  const message = (...resources: object[]) => ({
    resourceType: 'Bundle',
    type: 'collection',
    entry: resources.map((resource, i) => ({ fullUrl: `urn:uuid:00000000-0000-4000-8000-00000000000${i}`, resource })),
  });
  const urn = (i: number) => `urn:uuid:00000000-0000-4000-8000-00000000000${i}`;
  const everything = (found: BaseFindingsLike) => brief([...found.structure, ...found.codes, ...found.references]);
  type BaseFindingsLike = ReturnType<typeof baseFindings>;
  const task = { resourceType: 'Task', status: 'requested', intent: 'order' };
  const order = {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/p' },
  };

  it('finds every problem a carried resource has alone, at its entry: its own invariants and id too', () => {
    // Each is wrong alone; the first three are what Medplum checks only at the root of what it validates.
    const wrong: [object, string][] = [
      [{ ...order, orderDetail: [{ text: 'contrast' }] }, ''], // prr-1: orderDetail without code
      [{ ...task, authoredOn: '2026-02-01T00:00:00Z', lastModified: '2026-01-01T00:00:00Z' }, ''], // inv-1
      [{ ...task, id: 'not an id!' }, '.id'],
      [{ ...task, status: 'bogus' }, '.status'],
      [{ ...task, owner: 7 }, '.owner'],
      [{ ...order, subject: { reference: 'Endpoint/e' } }, '.subject'],
      [{ ...task, note: [{ text: 'Nul\u0000' }] }, '.note[0].text'],
    ];
    for (const [resource, at] of wrong) {
      const alone = everything(baseFindings(resource));
      const type = (resource as { resourceType: string }).resourceType;
      expect(alone, JSON.stringify(resource)).toContainEqual([expect.any(String), `${type}${at}`]);
      expect(everything(baseFindings(message(task, resource))), JSON.stringify(resource)).toContainEqual([
        expect.any(String),
        `Bundle.entry[1].resource${at}`,
      ]);
    }
    const nested = message(message(task, { ...task, id: 'bad id' }));
    expect(brief(baseFindings(nested).structure)).toContainEqual([
      'structure',
      'Bundle.entry[0].resource.entry[1].resource.id',
    ]);
    expect(baseFindings(message(task, order, { ...task, id: 'ok-1' }))).toEqual({
      structure: [],
      codes: [],
      references: [],
    });
  });

  it("checks a urn:uuid reference to an entry as a reference to that entry's type", () => {
    const patient = { resourceType: 'Patient' };
    const organisation = { resourceType: 'Organization', name: 'x' };
    const to = (i: number) => ({ ...order, subject: { reference: urn(i) } });
    expect(baseFindings(message(patient, to(0))).references).toEqual([]);
    expect(brief(baseFindings(message(organisation, to(0))).references)).toEqual([
      ['business-rule', 'Bundle.entry[1].resource.subject'],
    ]);
    // An element that may point at any resource, and a urn that is no entry's (the message's own rules refuse that).
    expect(baseFindings(message(organisation, { ...task, focus: { reference: urn(0) } })).references).toEqual([]);
    expect(baseFindings(message(organisation, to(7))).references).toEqual([]);
  });
});
