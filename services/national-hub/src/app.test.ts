import { devTopology } from '@imaging/config';
import { CODE_SYSTEMS, NHS_NUMBER_SYSTEM, ODS_SYSTEM, SYSTEMS, testNhsNumber } from '@imaging/fhir';
import type {
  Bundle,
  CapabilityStatement,
  Endpoint,
  OperationOutcome,
  Organization,
  PractitionerRole,
} from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestHub, tempDataDir } from './testing/index.ts';
import { DIRECTORY_TYPES } from './routes/directory.ts';

const temp = tempDataDir();
afterAll(() => temp.remove());
const hub = await createTestHub({ dataDir: temp.dir });

/** A JWT's claims, unverified (only to look at what the hub put in). */
const decodeJwt = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString());

async function get(path: string, token?: string): Promise<Response> {
  return hub.app.request(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

describe('open endpoints', () => {
  it('GET /health', async () => {
    const res = await get('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /fhir/metadata: a CapabilityStatement naming the token endpoint and the operations', async () => {
    const res = await get('/fhir/metadata');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toContain('application/fhir+json');
    const statement = (await res.json()) as CapabilityStatement;
    expect(statement.resourceType).toBe('CapabilityStatement');
    const rest = statement.rest?.[0];
    expect(rest?.resource?.map((r) => r.type)).toEqual([
      'Organization',
      'Endpoint',
      'PractitionerRole',
      'Practitioner',
      'DocumentReference',
      // Read by id only, by the flow view and national auditors (audit-trail.test.ts in the gateway's tests).
      'AuditEvent',
      'StructureDefinition',
    ]);
    expect(rest?.operation?.map((o) => o.name)).toEqual(['process-message', 'case-trail']);
    expect(rest?.resource?.find((r) => r.type === 'DocumentReference')?.operation?.map((o) => o.name)).toEqual([
      'validate',
      'retrieve',
    ]);
    expect(JSON.stringify(rest?.security)).toContain('http://127.0.0.1:4000/oauth2/token');
    expect(rest?.interaction?.map((i) => i.code)).toEqual(['batch']);
  });

  it('declares each directory search parameter it answers, and answers each one it declares', async () => {
    const statement = (await (await get('/fhir/metadata')).json()) as CapabilityStatement;
    const token = await hub.tokenFor('gateway-midlands');
    // A well-formed value of each kind, so only an undeclared parameter could be refused.
    const valueFor: Record<string, string> = { token: 'x', string: 'x', reference: 'Organization/x' };
    const special: Record<string, string> = { _sort: 'identifier', _summary: 'true', _elements: 'identifier' };
    const directory = statement.rest?.[0]?.resource?.filter((r) => DIRECTORY_TYPES.includes(r.type as never)) ?? [];
    expect(directory.map((r) => r.type).sort()).toEqual([...DIRECTORY_TYPES].sort());
    for (const resource of directory) {
      const names = resource.searchParam?.map((p) => p.name) ?? [];
      // What the directory was searched by before it was declared from its rules, and each include.
      expect(names).toEqual(expect.arrayContaining(['_id', 'identifier']));
      for (const param of resource.searchParam ?? []) {
        const value =
          param.type === 'reference' && param.name === 'practitioner'
            ? 'Practitioner/x'
            : param.type === 'reference' && param.name === 'endpoint'
              ? 'Endpoint/x'
              : param.name === 'active'
                ? 'true'
                : (special[param.name] ?? valueFor[param.type as string] ?? 'x');
        const res = await get(`/fhir/${resource.type}?${param.name}=${encodeURIComponent(value)}`, token);
        expect(res.status, `${resource.type}?${param.name}=${value}: ${await res.clone().text()}`).toBe(200);
      }
      for (const include of resource.searchInclude ?? []) {
        const res = await get(`/fhir/${resource.type}?_include=${include}`, token);
        expect(res.status, `${resource.type}?_include=${include}`).toBe(200);
      }
    }
  });

  it('documents how the locator is searched, and answers a search made as each parameter says', async () => {
    const statement = (await (await get('/fhir/metadata')).json()) as CapabilityStatement;
    const locator = statement.rest?.[0]?.resource?.find((r) => r.type === 'DocumentReference');
    const params = Object.fromEntries((locator?.searchParam ?? []).map((p) => [p.name, p.documentation ?? '']));
    expect(Object.keys(params).sort()).toEqual(['patient', 'subject', 'type']);
    for (const name of ['subject', 'patient']) {
      expect(params[name]).toContain(`${name}:identifier`);
      expect(params[name]).toContain(NHS_NUMBER_SYSTEM);
    }
    expect(params.type).toContain(CODE_SYSTEMS.pointerKind);
    const token = await hub.tokenFor('clinician-rs1');
    const nhs = `${NHS_NUMBER_SYSTEM}|${testNhsNumber(3)}`;
    for (const query of [
      `subject:identifier=${nhs}`,
      `patient:identifier=${nhs}&type=${CODE_SYSTEMS.pointerKind}|ImagingStudy`,
    ]) {
      const res = await get(`/fhir/DocumentReference?${query.replaceAll('|', '%7C')}`, token);
      expect(res.status, query).toBe(200);
    }
  });

  it('GET /.well-known/jwks.json publishes the public key only, and the SMART configuration points at the token endpoint', async () => {
    const jwks = (await (await get('/.well-known/jwks.json')).json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const smart = (await (await get('/.well-known/smart-configuration')).json()) as Record<string, unknown>;
    expect(smart.token_endpoint).toBe('http://127.0.0.1:4000/oauth2/token');
    expect(smart.issuer).toBe('http://127.0.0.1:4000');
  });
});

describe('SMART discovery, published profiles and $validate', () => {
  it('serves the SMART configuration, open, at the root and at the FHIR base, agreeing with the CapabilityStatement', async () => {
    const statement = (await (await get('/fhir/metadata')).json()) as CapabilityStatement;
    const token = statement.rest?.[0]?.security?.extension
      ?.find((e) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris')
      ?.extension?.find((e) => e.url === 'token')?.valueUri;
    expect(token).toBe('http://127.0.0.1:4000/oauth2/token');
    for (const path of ['/.well-known/smart-configuration', '/fhir/.well-known/smart-configuration']) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      const smart = (await res.json()) as Record<string, unknown>;
      expect(smart).toMatchObject({ token_endpoint: token, issuer: 'http://127.0.0.1:4000' });
      expect(smart.scopes_supported).toEqual(expect.arrayContaining(['hub/route']));
    }
  });

  it('publishes the StructureDefinition of each profile it declares, open', async () => {
    const statement = (await (await get('/fhir/metadata')).json()) as CapabilityStatement;
    const profiles = (statement.rest?.[0]?.resource ?? []).flatMap((r) => r.supportedProfile ?? []);
    expect(profiles).toHaveLength(2);
    for (const url of profiles) {
      const found = (await (await get(`/fhir/StructureDefinition?url=${encodeURIComponent(url)}`)).json()) as Bundle;
      expect(found.entry?.map((e) => (e.resource as { url?: string }).url)).toEqual([url]);
    }
  });

  it('validates an Organization for a client with a token (200 with the issues)', async () => {
    const body = JSON.stringify({ resourceType: 'Organization', identifier: [{ system: ODS_SYSTEM, value: 'x' }] });
    const headers = { 'Content-Type': 'application/fhir+json' };
    const open = await hub.app.request('/fhir/Organization/$validate', { method: 'POST', headers, body });
    expect(open.status).toBe(401);
    const token = await hub.tokenFor('gateway-north');
    const res = await hub.app.request('/fhir/Organization/$validate', {
      method: 'POST',
      headers: { ...headers, Authorization: `Bearer ${token}` },
      body,
    });
    expect(res.status).toBe(200);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue.map((i) => [i.severity, i.expression?.[0]])).toEqual([
      ['error', 'Organization.identifier[0].value'],
    ]);
  });
});

describe('token flow, end to end', () => {
  it('a dev client signs an assertion with its key, gets an access token, and the hub accepts it', async () => {
    const token = await hub.tokenFor('gateway-north');
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({
      iss: 'http://127.0.0.1:4000',
      sub: 'gateway-north',
      client_kind: 'gateway',
      region: 'north',
      aud: 'imaging-connect',
    });
    expect(String(claims.scope).split(' ')).toContain('hub/route');
    const res = await get('/fhir/Organization/region-north', token);
    expect(res.status).toBe(200);
  });

  it('the hub refuses a missing, malformed or forged token with 401 and a Bearer challenge', async () => {
    const missing = await get('/fhir/Organization/region-north');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('WWW-Authenticate')).toContain('invalid_token');
    expect(((await missing.json()) as OperationOutcome).issue?.[0]?.code).toBe('login');

    const token = await hub.tokenFor('gateway-north');
    const [header, payload] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), region: 'south' })).toString('base64url')}.${token.split('.')[2]}`;
    expect(payload).not.toBe(forged.split('.')[1]);
    expect((await get('/fhir/Organization/region-north', forged)).status).toBe(401);
    expect((await get('/fhir/Organization/region-north', 'not-a-jwt')).status).toBe(401);
  });

  it('a token without the scope gets 403', async () => {
    // The clinician may search the locator but not read the directory.
    const token = await hub.tokenFor('clinician-rs1');
    const res = await get(`/fhir/Organization?identifier=${ODS_SYSTEM}|N81001`, token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as OperationOutcome).issue?.[0]?.code).toBe('forbidden');
  });
});

describe('directory', () => {
  const searchset = async (path: string) => {
    const res = await get(path, await hub.tokenFor('gateway-midlands'));
    expect(res.status).toBe(200);
    return (await res.json()) as Bundle;
  };

  it('answers "which region serves this ODS code" with the Organization and its Endpoint in one searchset', async () => {
    const bundle = await searchset(
      `/fhir/Organization?identifier=${encodeURIComponent(`${ODS_SYSTEM}|N81001`)}&_include=Organization:endpoint`,
    );
    expect(bundle.type).toBe('searchset');
    const matches = bundle.entry?.filter((e) => e.search?.mode === 'match').map((e) => e.resource as Organization);
    const included = bundle.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource as Endpoint);
    expect(matches?.map((o) => o.id)).toEqual(['ods-N81001']);
    expect(matches?.[0]?.partOf?.identifier).toEqual({ system: SYSTEMS.region, value: 'north' });
    expect(included?.map((e) => [e.id, e.address])).toEqual([['imaging-north', 'http://127.0.0.1:4101/fhir']]);
    expect(bundle.entry?.[0]?.fullUrl).toBe('http://127.0.0.1:4000/fhir/Organization/ods-N81001');
  });

  it('includes only what the token may read: an Endpoint include without the Endpoint scope is a 403, not a quieter page', async () => {
    const organisationsOnly = await hub.tokenFor('gateway-midlands', 'system/Organization.rs');
    const byOds = `/fhir/Organization?identifier=${encodeURIComponent(`${ODS_SYSTEM}|N81001`)}`;
    expect((await get(byOds, organisationsOnly)).status).toBe(200);
    const res = await get(`${byOds}&_include=Organization:endpoint`, organisationsOnly);
    expect(res.status).toBe(403);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue?.[0]?.code).toBe('forbidden');
    expect(JSON.stringify(outcome)).not.toContain('127.0.0.1:4101');
  });

  it('finds an Endpoint by service id, and reads by id', async () => {
    const bundle = await searchset(
      `/fhir/Endpoint?identifier=${encodeURIComponent(`${SYSTEMS.serviceId}|imaging-south`)}`,
    );
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['imaging-south']);
    const token = await hub.tokenFor('gateway-midlands');
    const res = await get('/fhir/Endpoint/imaging-south', token);
    expect(res.status).toBe(200);
    expect(res.headers.get('ETag')).toBe('W/"1"');
    expect(((await res.json()) as Endpoint).address).toBe('http://127.0.0.1:4103/fhir');
  });

  it('answers a gateway\'s question "who are this organisation\'s alert recipients" with their roles and names', async () => {
    const bundle = await searchset(
      `/fhir/PractitionerRole?organization:identifier=${encodeURIComponent(`${ODS_SYSTEM}|N81001`)}&_include=PractitionerRole:practitioner&_count=100`,
    );
    const matches = bundle.entry?.filter((e) => e.search?.mode === 'match').map((e) => e.resource as PractitionerRole);
    expect(matches?.map((r) => [r.id, r.active, r.code?.[0]?.coding?.[0]?.code]).sort()).toEqual([
      ['n81001-hughes', true, 'responsible-clinician'],
      ['n81001-okafor', true, 'delegate'],
      ['n81001-patel', true, 'requesting-clinician'],
      ['n81001-reed', false, 'requesting-clinician'],
    ]);
    const included = bundle.entry?.filter((e) => e.search?.mode === 'include').map((e) => e.resource?.resourceType);
    expect(included).toEqual(['Practitioner', 'Practitioner', 'Practitioner', 'Practitioner']);
    const officer = await searchset(
      `/fhir/PractitionerRole?organization:identifier=${encodeURIComponent(`${SYSTEMS.region}|north`)}&role=${encodeURIComponent(`${CODE_SYSTEMS.alertRole}|fail-safe-officer`)}`,
    );
    expect(officer.entry?.map((e) => e.resource?.id)).toEqual(['north-failsafe']);
  });

  it("reads a directory entry's versions as it reads the entry: vread, history, 404 and 400", async () => {
    const token = await hub.tokenFor('gateway-midlands');
    const current = await get('/fhir/Endpoint/imaging-south', token);
    const version = await get('/fhir/Endpoint/imaging-south/_history/1', token);
    expect(version.status).toBe(200);
    expect(version.headers.get('ETag')).toBe('W/"1"');
    expect(await version.json()).toEqual(await current.json());
    const history = await get('/fhir/Endpoint/imaging-south/_history', token);
    expect((await history.json()) as Bundle).toMatchObject({
      type: 'history',
      total: 1,
      link: [{ relation: 'self', url: 'http://127.0.0.1:4000/fhir/Endpoint/imaging-south/_history' }],
      entry: [
        { fullUrl: 'http://127.0.0.1:4000/fhir/Endpoint/imaging-south', request: { method: 'POST', url: 'Endpoint' } },
      ],
    });
    expect((await get('/fhir/Endpoint/imaging-south/_history/2', token)).status).toBe(404);
    expect((await get('/fhir/Organization/ods-X99999/_history', token)).status).toBe(404);
    expect((await get('/fhir/Endpoint/imaging-south/_history/a%20b', token)).status).toBe(400);
    // History takes R4's _count, _since and _at (not _list), as every history here does.
    const one = (await (await get('/fhir/Endpoint/imaging-south/_history?_count=1', token)).json()) as Bundle;
    expect([one.total, one.entry?.length, one.link?.map((l) => l.relation)]).toEqual([1, 1, ['self']]);
    const none = (await (
      await get('/fhir/Endpoint/imaging-south/_history?_at=2000-01-01T00:00:00Z', token)
    ).json()) as Bundle;
    expect([none.total, none.entry]).toEqual([0, undefined]);
    expect((await get('/fhir/Endpoint/imaging-south/_history?_list=x', token)).status).toBe(400);
    // The clinician may search the locator but not read the directory, nor its past.
    expect((await get('/fhir/Endpoint/imaging-south/_history/1', await hub.tokenFor('clinician-rs1'))).status).toBe(
      403,
    );
  });

  it('answers a batch of reads entry by entry, each as it is answered alone, and refuses one without a token', async () => {
    const token = await hub.tokenFor('gateway-midlands');
    const urls = [
      'Endpoint/imaging-south',
      `Organization?identifier=${encodeURIComponent(`${ODS_SYSTEM}|N81001`)}`,
      'Endpoint/nope',
      'Organization?colour=blue',
    ];
    const alone = await Promise.all(urls.map(async (url) => (await get(`/fhir/${url}`, token)).status));
    expect(alone).toEqual([200, 200, 404, 400]);
    const body = JSON.stringify({
      resourceType: 'Bundle',
      type: 'batch',
      entry: urls.map((url) => ({ request: { method: 'GET', url } })),
    });
    const post = (auth: Record<string, string>) =>
      hub.app.request('/fhir', { method: 'POST', body, headers: { 'Content-Type': 'application/fhir+json', ...auth } });
    const res = await post({ Authorization: `Bearer ${token}` });
    expect(res.status).toBe(200);
    const batch = (await res.json()) as Bundle;
    expect(batch.entry?.map((e) => Number.parseInt(e.response?.status ?? '', 10))).toEqual(alone);
    expect((batch.entry?.[0]?.resource as Endpoint | undefined)?.address).toBe('http://127.0.0.1:4103/fhir');
    expect((batch.entry?.[1]?.resource as Bundle | undefined)?.entry?.[0]?.resource?.id).toBe('ods-N81001');
    expect(batch.entry?.[3]?.response?.outcome?.issue?.[0]?.diagnostics).toMatch(/colour/);
    expect((await post({})).status).toBe(401);
  });

  it('an unknown ODS code finds nothing; an unknown id is 404', async () => {
    const bundle = await searchset(
      `/fhir/Organization?identifier=${encodeURIComponent(`${ODS_SYSTEM}|X99999`)}&_include=Organization:endpoint`,
    );
    expect(bundle.entry ?? []).toEqual([]);
    const res = await get('/fhir/Organization/ods-X99999', await hub.tokenFor('gateway-midlands'));
    expect(res.status).toBe(404);
    expect(((await res.json()) as OperationOutcome).issue?.[0]?.code).toBe('not-found');
  });

  it('refuses parameters it does not answer (400, one issue each), rather than ignoring them', async () => {
    const res = await get(
      '/fhir/Organization?address=Leeds&_include=Organization:foo&_count=5000',
      await hub.tokenFor('gateway-midlands'),
    );
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue?.map((i) => i.expression?.[0])).toEqual(['address', '_include', '_count']);
  });

  it.each(['101', '1e2', '-1', ''])('refuses _count=%s with 400 naming it', async (count) => {
    const res = await get(`/fhir/Endpoint?_count=${count}`, await hub.tokenFor('gateway-midlands'));
    expect(res.status).toBe(400);
    expect(((await res.json()) as OperationOutcome).issue?.map((i) => i.expression?.[0])).toEqual(['_count']);
  });

  it('pages with signed page tokens that only work for the client they were given to', async () => {
    const first = await searchset('/fhir/Organization?_count=4');
    expect(first.entry).toHaveLength(4);
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next).toMatch(/^http:\/\/127\.0\.0\.1:4000\/fhir\/Organization\?_page=/);
    const path = next.replace('http://127.0.0.1:4000', '');
    const second = await searchset(path);
    expect(second.entry).toHaveLength(4);
    const secondNext = second.link?.find((l) => l.relation === 'next')?.url as string;
    const third = await searchset(secondNext.replace('http://127.0.0.1:4000', ''));
    // The directory's organisations: a region is one too.
    const { regions, organisations } = devTopology();
    const total = regions.length + organisations.length;
    expect(third.entry).toHaveLength(total - 8);
    expect(third.link?.some((l) => l.relation === 'next')).toBe(false);
    const ids = [first, second, third].flatMap((b) => b.entry?.map((e) => e.resource?.id));
    expect(new Set(ids).size).toBe(total);

    const stolen = await get(path, await hub.tokenFor('gateway-north'));
    expect(stolen.status).toBe(400);
    const tampered = await get(`${path.slice(0, -3)}abc`, await hub.tokenFor('gateway-midlands'));
    expect(tampered.status).toBe(400);
  });

  it('serves no other resource types', async () => {
    const token = await hub.tokenFor('gateway-midlands');
    expect((await get('/fhir/Patient', token)).status).toBe(404);
    const post = await hub.app.request('/fhir/Organization', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(post.status).toBe(405);
    // What the directory does allow there, as the CapabilityStatement declares it.
    expect(post.headers.get('Allow')).toBe('GET');
    const put = await hub.app.request('/fhir/DocumentReference/x', {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(put.status).toBe(405);
    expect(put.headers.get('Allow')).toBe('GET');
    // A pointer's history and versions are read only too.
    for (const [method, path] of [
      ['POST', '/fhir/DocumentReference/x/_history'],
      ['DELETE', '/fhir/Organization/ods-N81001/_history/1'],
    ] as const) {
      const res = await hub.app.request(path, { method, headers: { Authorization: `Bearer ${token}` } });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('Allow')).toBe('GET');
    }
  });

  it('says how an operation is invoked when it is asked with another method', async () => {
    const token = await hub.tokenFor('gateway-midlands');
    const ask = (method: string, path: string) =>
      hub.app.request(path, { method, headers: { Authorization: `Bearer ${token}` } });
    const retrieve = await ask('POST', '/fhir/DocumentReference/x/$retrieve');
    expect(retrieve.status).toBe(405);
    expect(retrieve.headers.get('Allow')).toBe('GET');
    const route = await ask('GET', '/fhir/$process-message');
    expect(route.status).toBe(405);
    expect(route.headers.get('Allow')).toBe('POST');
    const unknown = await ask('GET', '/fhir/Organization/$everything');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as OperationOutcome).issue[0]?.diagnostics).toBe(
      'This server has no operation $everything on Organization (see /fhir/metadata)',
    );
  });
});

describe('bad input: a 400 OperationOutcome naming each problem, before any store is asked', () => {
  /** The status, and each issue's expression, of an answer. */
  const answer = async (path: string, client = 'gateway-midlands') => {
    const res = await get(path, await hub.tokenFor(client));
    const body = (await res.json()) as OperationOutcome | Bundle;
    return {
      status: res.status,
      resourceType: body.resourceType,
      expressions: body.resourceType === 'OperationOutcome' ? body.issue.map((i) => i.expression?.[0]) : undefined,
    };
  };
  const refused = (expressions: string[]) => ({ status: 400, resourceType: 'OperationOutcome', expressions });
  const ods = (code: string) => encodeURIComponent(`${ODS_SYSTEM}|${code}`);

  it.each([
    ['/fhir/Organization?_id=a_b', ['_id']],
    ['/fhir/Organization?active=maybe', ['active']],
    ['/fhir/Organization?identifier=', ['identifier']],
    [`/fhir/Organization?identifier=${ods('N8!')}`, ['identifier']],
    ['/fhir/Organization?partof=http://evil.example/x', ['partof']],
    ['/fhir/Organization?name:exact=', ['name']],
    ['/fhir/Organization?name:fuzzy=Leeds', ['name']],
    ['/fhir/Organization?_include=Organization:foo', ['_include']],
    ['/fhir/Endpoint?organization=Patient/1', ['organization']],
    ['/fhir/PractitionerRole?organization:identifier=', ['organization']],
    ['/fhir/PractitionerRole?practitioner=a_b', ['practitioner']],
    ['/fhir/Practitioner?active=yes', ['active']],
    ['/fhir/Organization?_pretty=maybe', ['_pretty']],
    ['/fhir/Organization?_format=xml', ['_format']],
    ['/fhir/Organization?_total=lots', ['_total']],
    ['/fhir/Organization?_id=a_b&active=maybe&_count=-1', ['_id', 'active', '_count']],
    ['/fhir/Organization?_count=101', ['_count']],
    ['/fhir/Organization?_count=0&_summary=true', ['_count']],
  ])('a directory search %s is refused at %j', async (path, expressions) => {
    expect(await answer(path)).toEqual(refused(expressions));
  });

  it.each([
    '_format=json&_pretty=true',
    '_format=application/fhir%2Bjson&_pretty=false',
    '_total=accurate&_offset=0&_sort=name',
    'active=true',
  ])('a directory search takes the result parameters a gateway search takes (%s)', async (query) => {
    const res = await get(
      `/fhir/Organization?identifier=${ods('n81001')}&${query}`,
      await hub.tokenFor('gateway-midlands'),
    );
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as Bundle;
    expect(bundle.entry?.map((e) => e.resource?.id)).toEqual(['ods-N81001']);
  });

  it('shows the matches in the subset asked for, on every page', async () => {
    const token = await hub.tokenFor('gateway-midlands');
    const first = (await (await get('/fhir/Organization?_elements=name&_count=2', token)).json()) as Bundle;
    const next = first.link?.find((l) => l.relation === 'next')?.url as string;
    const second = (await (await get(next.replace('http://127.0.0.1:4000', ''), token)).json()) as Bundle;
    for (const page of [first, second]) {
      expect(page.entry).toHaveLength(2);
      for (const entry of page.entry ?? []) {
        const org = entry.resource as Organization;
        expect(Object.keys(org).sort()).toEqual(['id', 'meta', 'name', 'resourceType']);
        expect(org.meta?.tag?.map((t) => t.code)).toContain('SUBSETTED');
      }
    }
    const counted = (await (await get('/fhir/Organization?_summary=count', token)).json()) as Bundle;
    expect(counted.total).toBe(devTopology().regions.length + devTopology().organisations.length);
    expect(counted.entry ?? []).toEqual([]);
  });

  it('answers a directory search with _count=0 as _summary=count: the total, and no entries (R4 search.html#count)', async () => {
    const token = await hub.tokenFor('gateway-midlands');
    const zero = (await (await get('/fhir/Organization?_count=0', token)).json()) as Bundle;
    expect(zero.total).toBe(devTopology().regions.length + devTopology().organisations.length);
    expect(zero.entry ?? []).toEqual([]);
    expect(zero.link).toEqual([{ relation: 'self', url: 'http://127.0.0.1:4000/fhir/Organization?_count=0' }]);
  });

  const badIds = ['a_b', 'a%20b', 'x'.repeat(65)];
  it.each(badIds)('a directory read, vread or history of id %s is a 400 at id', async (id) => {
    for (const path of [
      `/fhir/Organization/${id}`,
      `/fhir/Endpoint/${id}/_history/1`,
      `/fhir/Practitioner/${id}/_history`,
    ])
      expect(await answer(path), path).toEqual(refused(['id']));
  });

  it('an id of 64 characters is well formed: a 404 when there is none', async () => {
    expect((await answer(`/fhir/Organization/${'x'.repeat(64)}`)).status).toBe(404);
  });

  it.each(badIds)('a locator read, vread, history or $retrieve of id %s is a 400 at id', async (id) => {
    for (const path of [
      `/fhir/DocumentReference/${id}`,
      `/fhir/DocumentReference/${id}/_history/1`,
      `/fhir/DocumentReference/${id}/_history`,
      `/fhir/DocumentReference/${id}/$retrieve`,
    ])
      expect(await answer(path, 'clinician-rs1'), path).toEqual(refused(['id']));
  });

  const patient = `subject:identifier=${encodeURIComponent('https://fhir.nhs.uk/Id/nhs-number|9990000018')}`;
  it.each(['_format=json&_pretty=true', '_format=application/fhir%2Bjson', '_total=accurate&_offset=0'])(
    'a locator search takes the result parameters a gateway search takes (%s)',
    async (query) => {
      expect(await answer(`/fhir/DocumentReference?${patient}&${query}`, 'clinician-rs1')).toMatchObject({
        status: 200,
        resourceType: 'Bundle',
      });
    },
  );

  it.each([
    ['_pretty=maybe', ['_pretty']],
    ['_format=xml', ['_format']],
    ['_total=lots', ['_total']],
    ['_total=none&_total=accurate', ['_total']],
    ['_offset=-1', ['_offset']],
    ['_page=', ['_page']],
    ['colour=blue', ['colour']],
  ])('a locator search with %s is refused at %j', async (query, expressions) => {
    expect(await answer(`/fhir/DocumentReference?${patient}&${query}`, 'clinician-rs1')).toEqual(refused(expressions));
  });

  it.each([
    ['correlation-id=abc&foo=bar', ['foo']],
    ['correlation-id=abc&_pretty=maybe', ['_pretty']],
    ['correlation-id=abc&_count=10', ['_count']],
    ['foo=bar', ['foo', 'correlation-id']],
  ])('$case-trail?%s is refused at %j', async (query, expressions) => {
    expect(await answer(`/fhir/$case-trail?${query}`, 'flow-view')).toEqual(refused(expressions));
  });

  it('$case-trail takes _format and _pretty', async () => {
    // A gateway's own client is no case's organisation: an empty trail, without asking any region.
    const res = await answer('/fhir/$case-trail?correlation-id=abc&_format=json&_pretty=true', 'gateway-north');
    expect(res).toMatchObject({ status: 200, resourceType: 'Bundle' });
  });
});
