import type { DiagnosticReport, Identifier, Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { beforeAll, expect, it } from 'vitest';
import { CODE_SYSTEMS, ODS_SYSTEM } from '../../systems.ts';
import { referenceTo, token } from '../helpers.ts';
import type { SearchQuery, WithId } from '../port.ts';
import type { ContractContext } from './fixtures.ts';
import { CONTRACT_SYSTEM, expectOutcome, ids } from './fixtures.ts';

/**
 * One small world for the searches (and the paging tests): two patients, two organisations (one
 * referenced literally, one only by ODS code), two orders and four tasks in one group.
 */
export interface SearchWorld {
  /** The group of the four tasks. */
  group: { identifier: Identifier; query: string };
  odsA: string;
  odsB: string;
  /** The task code the first three tasks carry. */
  code: string;
  /** An identifier value the second task carries with no system. */
  noSystemValue: string;
  p: WithId<Patient>;
  q: WithId<Patient>;
  orgA: WithId<Organization>;
  sr1: WithId<ServiceRequest>;
  sr2: WithId<ServiceRequest>;
  t1: WithId<Task>;
  t2: WithId<Task>;
  t3: WithId<Task>;
  t4: WithId<Task>;
  report: WithId<DiagnosticReport>;
}

/** Registers the beforeAll that creates the search world, and returns the world it fills in. */
export function searchWorld(ctx: ContractContext): SearchWorld {
  const { run, unique, identifier, group, patient, task, create } = ctx;
  const odsA = `CT${run.toUpperCase()}A`;
  const odsB = `CT${run.toUpperCase()}B`;
  // The resources are added by the beforeAll, before any test reads them.
  const world = {
    group: group('search'),
    odsA,
    odsB,
    code: unique('code'),
    noSystemValue: unique('nosys'),
  } as SearchWorld;
  const logicalB = { identifier: { system: ODS_SYSTEM, value: odsB } };

  beforeAll(async () => {
    const p = await create(patient());
    const q = await create(patient());
    const orgA = await create<Organization>({
      resourceType: 'Organization',
      identifier: [identifier(odsA, ODS_SYSTEM)],
      name: 'Contract A',
    });
    const sr1 = await create<ServiceRequest>({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      identifier: [identifier(unique('placer'))],
      subject: { reference: referenceTo(p) },
      requester: { reference: referenceTo(orgA) },
      performer: [{ reference: referenceTo(orgA) }],
      authoredOn: '2026-03-04T12:00:00Z',
    });
    const sr2 = await create<ServiceRequest>({
      resourceType: 'ServiceRequest',
      status: 'active',
      intent: 'order',
      identifier: [identifier(unique('placer'))],
      subject: { reference: referenceTo(q) },
      requester: logicalB,
      performer: [logicalB],
      authoredOn: '2026-03-05T12:00:00Z',
    });
    const common = {
      identifier: [world.group.identifier],
      code: { coding: [{ system: CODE_SYSTEMS.taskCode, code: world.code }] },
    };
    const t1 = await create(
      task({
        ...common,
        identifier: [world.group.identifier, identifier(unique('t1'))],
        status: 'requested',
        for: { reference: referenceTo(p) },
        focus: { reference: referenceTo(sr1) },
        basedOn: [{ reference: referenceTo(sr1) }],
        owner: { reference: referenceTo(orgA) },
        requester: { reference: referenceTo(orgA) },
        authoredOn: '2026-03-04T12:00:00Z',
      }),
    );
    const t2 = await create(
      task({
        ...common,
        identifier: [world.group.identifier, { value: world.noSystemValue }],
        status: 'accepted',
        for: { reference: referenceTo(q) },
        focus: { reference: referenceTo(sr2) },
        basedOn: [{ reference: referenceTo(sr2) }],
        owner: logicalB,
        requester: logicalB,
        authoredOn: '2026-03-05T12:00:00Z',
      }),
    );
    const t3 = await create(
      task({
        ...common,
        status: 'completed',
        for: { reference: referenceTo(p) },
        focus: { reference: referenceTo(sr2) },
        basedOn: [{ reference: referenceTo(sr1) }],
        owner: logicalB,
        authoredOn: '2026-03-06T12:00:00Z',
      }),
    );
    const t4 = await create(
      task({
        identifier: [world.group.identifier],
        status: 'requested',
        owner: { reference: referenceTo(orgA) },
        authoredOn: '2026-03-05T09:30:00Z',
      }),
    );
    const report = await create<DiagnosticReport>({
      resourceType: 'DiagnosticReport',
      status: 'final',
      code: { text: 'Contract report' },
      subject: { reference: referenceTo(p) },
      basedOn: [{ reference: referenceTo(sr1) }],
    });
    Object.assign(world, { p, q, orgA, sr1, sr2, t1, t2, t3, t4, report });
  });
  return world;
}

/** Search parameters: identifier, references, status, code, dates and _id. */
export function searchParameterTests(ctx: ContractContext, world: SearchWorld): void {
  const { unique } = ctx;
  const tasks = async (query: SearchQuery): Promise<string[]> =>
    ids((await ctx.store.search<Task>('Task', query)).resources);
  const inGroup = (query: Record<string, string>): Record<string, string> => ({
    identifier: world.group.query,
    ...query,
  });

  it('identifier: system|value, |value (no system) and value (any system)', async () => {
    const t1Value = world.t1.identifier?.[1]?.value as string;
    expect(await tasks({ identifier: `${CONTRACT_SYSTEM}|${t1Value}` })).toEqual([world.t1.id]);
    expect(await tasks({ identifier: t1Value })).toEqual([world.t1.id]);
    expect(await tasks({ identifier: `|${t1Value}` })).toEqual([]);
    expect(await tasks({ identifier: `|${world.noSystemValue}` })).toEqual([world.t2.id]);
    expect(await tasks({ identifier: world.noSystemValue })).toEqual([world.t2.id]);
    expect(await tasks({ identifier: `${CONTRACT_SYSTEM}|${world.noSystemValue}` })).toEqual([]);
    expect(await tasks({ identifier: world.group.query })).toEqual(ids([world.t1, world.t2, world.t3, world.t4]));
  });

  it('identifier: an escaped , | or \\ is a character of the value, never a second value (token)', async () => {
    const base = unique('esc');
    const make = async (value: string) =>
      (await ctx.create<Patient>({ resourceType: 'Patient', identifier: [{ system: CONTRACT_SYSTEM, value }] })).id;
    const [one, two, both, odd] = [
      await make(`${base}-1`),
      await make(`${base}-2`),
      await make(`${base}-1,${base}-2`),
      await make(`${base}\\x|y`),
    ];
    const patients = async (identifier: string) =>
      ids((await ctx.store.search<Patient>('Patient', { identifier })).resources).sort();
    expect(await patients(token(CONTRACT_SYSTEM, `${base}-1,${base}-2`))).toEqual([both]);
    expect(await patients(`${CONTRACT_SYSTEM}|${base}-1,${CONTRACT_SYSTEM}|${base}-2`)).toEqual([one, two].sort());
    expect(await patients(token(CONTRACT_SYSTEM, `${base}\\x|y`))).toEqual([odd]);
  });

  it('patient and subject: Type/id, bare id and the :Patient modifier', async () => {
    expect(await tasks({ patient: referenceTo(world.p) })).toEqual(ids([world.t1, world.t3]));
    expect(await tasks({ patient: world.p.id })).toEqual(ids([world.t1, world.t3]));
    expect(await tasks({ subject: referenceTo(world.q) })).toEqual([world.t2.id]);
    expect(await tasks({ 'subject:Patient': world.q.id })).toEqual([world.t2.id]);
    const orders = await ctx.store.search<ServiceRequest>('ServiceRequest', { subject: referenceTo(world.p) });
    expect(ids(orders.resources)).toEqual([world.sr1.id]);
    const reports = await ctx.store.search<DiagnosticReport>('DiagnosticReport', { patient: referenceTo(world.p) });
    expect(ids(reports.resources)).toEqual([world.report.id]);
  });

  it('status, with a comma as OR', async () => {
    expect(await tasks(inGroup({ status: 'requested' }))).toEqual(ids([world.t1, world.t4]));
    expect(await tasks(inGroup({ status: 'accepted,completed' }))).toEqual(ids([world.t2, world.t3]));
    expect(await tasks(inGroup({ status: 'cancelled' }))).toEqual([]);
  });

  it('based-on and focus', async () => {
    expect(await tasks({ 'based-on': referenceTo(world.sr1) })).toEqual(ids([world.t1, world.t3]));
    expect(await tasks({ focus: referenceTo(world.sr2) })).toEqual(ids([world.t2, world.t3]));
    expect(await tasks({ focus: `${referenceTo(world.sr1)},${referenceTo(world.sr2)}` })).toEqual(
      ids([world.t1, world.t2, world.t3]),
    );
    const reports = await ctx.store.search<DiagnosticReport>('DiagnosticReport', {
      'based-on': referenceTo(world.sr1),
    });
    expect(ids(reports.resources)).toEqual([world.report.id]);
  });

  it('owner: a literal reference, and :identifier on a logical one', async () => {
    expect(await tasks({ owner: referenceTo(world.orgA) })).toEqual(ids([world.t1, world.t4]));
    expect(await tasks({ 'owner:identifier': `${ODS_SYSTEM}|${world.odsB}` })).toEqual(ids([world.t2, world.t3]));
    expect(await tasks({ 'owner:identifier': `${ODS_SYSTEM}|${world.odsA}` })).toEqual([]); // A is only referenced literally
  });

  it('owner and status together (the work queue)', async () => {
    expect(await tasks({ owner: referenceTo(world.orgA), status: 'requested' })).toEqual(ids([world.t1, world.t4]));
    expect(await tasks({ 'owner:identifier': `${ODS_SYSTEM}|${world.odsB}`, status: 'accepted,ready' })).toEqual([
      world.t2.id,
    ]);
  });

  it('requester: literal and :identifier', async () => {
    expect(await tasks({ requester: referenceTo(world.orgA) })).toEqual([world.t1.id]);
    expect(await tasks({ 'requester:identifier': `${ODS_SYSTEM}|${world.odsB}` })).toEqual([world.t2.id]);
    const orders = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      'requester:identifier': `${ODS_SYSTEM}|${world.odsB}`,
    });
    expect(ids(orders.resources)).toEqual([world.sr2.id]);
  });

  it('performer (ServiceRequest): literal and :identifier', async () => {
    const byLiteral = await ctx.store.search<ServiceRequest>('ServiceRequest', { performer: referenceTo(world.orgA) });
    expect(ids(byLiteral.resources)).toEqual([world.sr1.id]);
    const byIdentifier = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      'performer:identifier': `${ODS_SYSTEM}|${world.odsB}`,
    });
    expect(ids(byIdentifier.resources)).toEqual([world.sr2.id]);
  });

  it('code: system|code and code', async () => {
    expect(await tasks({ code: `${CODE_SYSTEMS.taskCode}|${world.code}` })).toEqual(
      ids([world.t1, world.t2, world.t3]),
    );
    expect(await tasks({ code: world.code })).toEqual(ids([world.t1, world.t2, world.t3]));
    expect(await tasks({ code: `http://example.org/other|${world.code}` })).toEqual([]);
  });

  it('authored-on: ge, lt and eq at day precision, and a range', async () => {
    expect(await tasks(inGroup({ 'authored-on': 'ge2026-03-05' }))).toEqual(ids([world.t2, world.t3, world.t4]));
    expect(await tasks(inGroup({ 'authored-on': 'lt2026-03-05' }))).toEqual([world.t1.id]);
    expect(await tasks(inGroup({ 'authored-on': 'eq2026-03-05' }))).toEqual(ids([world.t2, world.t4]));
    expect(await tasks(inGroup({ 'authored-on': '2026-03-05' }))).toEqual(ids([world.t2, world.t4]));
    const range = new URLSearchParams({ identifier: world.group.query });
    range.append('authored-on', 'ge2026-03-05');
    range.append('authored-on', 'lt2026-03-06');
    expect(await tasks(range)).toEqual(ids([world.t2, world.t4]));
    const orders = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      subject: referenceTo(world.q),
      authored: 'ge2026-03-05',
    });
    expect(ids(orders.resources)).toEqual([world.sr2.id]);
  });

  it('_lastUpdated: ge and lt at the instant a resource was written, and at day precision', async () => {
    const at = world.t4.meta?.lastUpdated as string;
    expect(await tasks(inGroup({ _lastUpdated: `ge${at}` }))).toContain(world.t4.id);
    expect(await tasks(inGroup({ _lastUpdated: `lt${at}` }))).not.toContain(world.t4.id);
    const yesterday = new Date(Date.parse(at) - 86_400_000).toISOString().slice(0, 10);
    expect(await tasks(inGroup({ _lastUpdated: `gt${yesterday}` }))).toEqual(
      ids([world.t1, world.t2, world.t3, world.t4]),
    );
    expect(await tasks(inGroup({ _lastUpdated: `lt${yesterday}` }))).toEqual([]);
  });

  it('_id, with a comma as OR', async () => {
    expect(await tasks({ _id: world.t1.id })).toEqual([world.t1.id]);
    expect(await tasks({ _id: `${world.t2.id},${world.t3.id}` })).toEqual(ids([world.t2, world.t3]));
    expect(await tasks({ _id: unique('missing') })).toEqual([]);
  });
}

/**
 * What a search returns besides its matches: sorted, counted, with included and revincluded resources,
 * empty, or 400. Sorts are checked only where R4 says the order: each task has one value per sort key.
 */
export function searchResultTests(ctx: ContractContext, world: SearchWorld): void {
  const { unique } = ctx;
  const sortedTasks = async (sort: string): Promise<string[]> =>
    (await ctx.store.search<Task>('Task', { identifier: world.group.query, _sort: sort })).resources.map((t) => t.id);

  it('_sort=-_lastUpdated gives the newest first', async () => {
    const sorted = await ctx.store.search<Task>('Task', { identifier: world.group.query, _sort: '-_lastUpdated' });
    expect(sorted.resources.map((t) => t.id)).toEqual([world.t4.id, world.t3.id, world.t2.id, world.t1.id]);
    const times = sorted.resources.map((t) => Date.parse(t.meta?.lastUpdated ?? ''));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('_sort by a date parameter: ascending, and descending with -', async () => {
    const { t1, t2, t3, t4 } = world;
    expect(await sortedTasks('authored-on')).toEqual([t1.id, t4.id, t2.id, t3.id]);
    expect(await sortedTasks('-authored-on')).toEqual([t3.id, t2.id, t4.id, t1.id]);
  });

  it('_sort by a token, then a date for the tasks of one status', async () => {
    const { t1, t2, t3, t4 } = world;
    // accepted < completed < requested; the two requested tasks by when they were authored
    expect(await sortedTasks('status,-authored-on')).toEqual([t2.id, t3.id, t4.id, t1.id]);
    expect(await sortedTasks('-status,authored-on')).toEqual([t1.id, t4.id, t3.id, t2.id]);
  });

  it('_summary=count gives the number of matches, and no resources', async () => {
    const page = await ctx.store.search<Task>('Task', { identifier: world.group.query, _summary: 'count' });
    expect(page.total).toBe(4);
    expect(page.resources).toEqual([]);
    expect(page.included).toEqual([]);
  });

  it('_count=0 is answered as _summary=count: the number of matches, and no resources', async () => {
    const page = await ctx.store.search<Task>('Task', { identifier: world.group.query, _count: '0' });
    expect(page.total).toBe(4);
    expect(page.resources).toEqual([]);
    expect(page.included).toEqual([]);
    expect(page.next).toBeUndefined();
  });

  it('_include brings the referenced resources in as included, not as matches', async () => {
    const page = await ctx.store.search<Task>('Task', { _id: world.t1.id, _include: 'Task:focus' });
    expect(ids(page.resources)).toEqual([world.t1.id]);
    expect(page.included.map((r) => `${r.resourceType}/${r.id}`)).toEqual([referenceTo(world.sr1)]);
    const owners = await ctx.store.search<Task>('Task', {
      _id: `${world.t1.id},${world.t4.id}`,
      _include: 'Task:owner',
    });
    expect(ids(owners.resources)).toEqual(ids([world.t1, world.t4]));
    expect(owners.included.map((r) => `${r.resourceType}/${r.id}`)).toEqual([referenceTo(world.orgA)]);
  });

  it('_revinclude brings in what points at the matches as included, not as matches', async () => {
    const { sr1, sr2, t1, t2, t3 } = world;
    const page = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      _id: `${sr1.id},${sr2.id}`,
      _revinclude: 'Task:focus',
    });
    expect(ids(page.resources)).toEqual(ids([sr1, sr2]));
    expect(page.included.map((r) => `${r.resourceType}/${r.id}`).sort()).toEqual(
      [t1, t2, t3].map((t) => referenceTo(t)).sort(),
    );
    const reports = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      _id: sr1.id,
      _revinclude: 'DiagnosticReport:based-on',
    });
    expect(reports.included.map((r) => `${r.resourceType}/${r.id}`)).toEqual([referenceTo(world.report)]);
    const nothing = await ctx.store.search<ServiceRequest>('ServiceRequest', {
      _id: sr2.id,
      _revinclude: 'DiagnosticReport:based-on',
    });
    expect(ids(nothing.resources)).toEqual([sr2.id]);
    expect(nothing.included).toEqual([]);
  });

  it('a search matching nothing is an empty page, not an error', async () => {
    const page = await ctx.store.search<Task>('Task', { identifier: `${CONTRACT_SYSTEM}|${unique('none')}` });
    expect(page.resources).toEqual([]);
    expect(page.included).toEqual([]);
    expect(page.next).toBeUndefined();
  });

  it('an unknown search parameter is 400', async () => {
    await expectOutcome(ctx.store.search('Task', { 'no-such-parameter': 'x' }), 400);
  });

  it.each([
    ['_offset', '1e19'],
    ['_offset', '-1'],
    ['_offset', '1000000001'],
    ['_count', '-1'],
    ['_count', '1001'],
    ['_count', '2.5'],
  ])('%s=%s is 400 naming the parameter, never a server error', async (name, value) => {
    const error = await expectOutcome(ctx.store.search('Task', { identifier: world.group.query, [name]: value }), 400);
    expect(error.outcome.issue.map((i) => i.expression?.[0])).toEqual([name]);
  });
}
