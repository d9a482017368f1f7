import type { AccessTokenContent } from '@imaging/auth';
import type { Bundle, Communication, Flag, OperationOutcome } from '@medplum/fhirtypes';
import {
  CAUDA_EQUINA_SYNDROME,
  IMAGING_PROCEDURE_CODES,
  ODS_SYSTEM,
  odsReference,
  procedureCodings,
  SYSTEMS,
} from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import { checkTurnarounds } from '../domain/breaches.ts';
import { alertCase, communications, theAlert } from '../testing/alerts.ts';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { testRegions } from '../testing/regions.ts';
import { flags, turnaroundCase } from '../testing/turnaround.ts';

/**
 * The safety layer's notices through the API: an alert's Communications and a breach's Flag are read and
 * searched by the organisations party to them, and by nobody else, who gets the answer an unknown id gets.
 */

const HOUR = 3_600_000;
const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };
const WARD: AccessTokenContent = { ...GP_TOKEN, sub: 'ward-rn1', org: 'RN1' };
/** A practice of the midlands, where the RIS works: same region, another organisation. */
const MIDLANDS_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-m81001', org: 'M81001', region: 'midlands' };

async function client(gateway: Awaited<ReturnType<typeof testGateway>>, as: AccessTokenContent) {
  const token = await gateway.token(as);
  return async (path: string, prefer?: string) => {
    const res = await gateway.app.request(path, {
      headers: { Authorization: `Bearer ${token}`, ...(prefer ? { Prefer: prefer } : {}) },
    });
    return { status: res.status, type: res.headers.get('Content-Type'), text: await res.text() };
  };
}
const matches = (text: string) =>
  ((JSON.parse(text) as Bundle).entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id);

/** An URGENT alert raised in the north for the ED of RN1, whose patient left for their GP practice N81002. */
async function dischargedAlert() {
  const regions = testRegions();
  await alertCase(regions, {
    category: 'URGENT',
    referrer: { clientId: 'ward-rn1', kind: 'referrer', organisation: 'RN1', region: 'north' },
    order: {
      identifier: [{ system: SYSTEMS.placerOrder, value: 'RN1-ED-7' }],
      requester: odsReference('RN1'),
      contained: [{ resourceType: 'Encounter', id: 'enc', status: 'finished', class: { code: 'EMER' } }],
      encounter: { reference: '#enc' },
    },
    patient: { generalPractitioner: [odsReference('N81002')] },
  });
  const alert = await theAlert(regions.north);
  const [raised] = (await communications(regions.north)).filter((c) =>
    c.identifier?.[0]?.value?.endsWith('-acknowledge-raised'),
  );
  if (!raised) throw new Error('no alert Communication raised');
  return { regions, alert, raised: raised as Communication & { id: string } };
}

describe('an alert Communication, through the API', () => {
  it('is read and found by the requester and by the GP practice it was sent to', async () => {
    const { regions, alert, raised } = await dischargedAlert();
    const north = await testGateway(regions.north);
    for (const who of [WARD, OTHER_GP]) {
      const call = await client(north, who);
      const read = await call(`/fhir/Communication/${raised.id}`);
      expect(read.status, who.org).toBe(200);
      expect((JSON.parse(read.text) as Communication).recipient).toContainEqual(odsReference('N81002'));
      expect(matches((await call(`/fhir/Communication?based-on=Task/${alert.id}`)).text), who.org).toEqual([raised.id]);
      const toPractice = `/fhir/Communication?recipient:identifier=${ODS_SYSTEM}|N81002`;
      expect(matches((await call(toPractice)).text), who.org).toEqual([raised.id]);
    }
  });

  it('is not there for an organisation that is no party, nor at another region: the answer an unknown id gets', async () => {
    const { regions, alert, raised } = await dischargedAlert();
    const north = await client(await testGateway(regions.north), GP_TOKEN);
    const unknown = await north('/fhir/Communication/no-such-communication');
    expect(unknown.status).toBe(404);
    expect(await north(`/fhir/Communication/${raised.id}`)).toEqual(unknown);
    expect(matches((await north(`/fhir/Communication?based-on=Task/${alert.id}`)).text)).toEqual([]);
    expect(matches((await north('/fhir/Communication')).text)).toEqual([]);
    // The performer's region never held it: the same 404 there, for its own provider.
    const midlands = await client(await testGateway(regions.midlands), RIS_TOKEN);
    const there = await midlands(`/fhir/Communication/${raised.id}`);
    const unknownThere = await midlands('/fhir/Communication/no-such-communication');
    expect(there.status).toBe(404);
    expect(there).toEqual(unknownThere);
  });

  it('needs the Communication scope, and refuses a parameter it does not answer under strict handling', async () => {
    const { regions } = await dischargedAlert();
    const north = await testGateway(regions.north);
    const noScope = await client(north, { ...WARD, scope: ['system/Task.rus'] });
    expect((await noScope('/fhir/Communication')).status).toBe(403);
    const ward = await client(north, WARD);
    const strict = await ward('/fhir/Communication?medium=x', 'handling=strict');
    expect(strict.status).toBe(400);
    expect((JSON.parse(strict.text) as OperationOutcome).issue[0]?.expression).toEqual(['medium']);
    // _security is the server's own: refused whatever the handling.
    expect((await ward('/fhir/Communication?_security=x', 'handling=lenient')).status).toBe(400);
  });
});

describe('a breach Flag, through the API', () => {
  it("is read and found by the provider (and the order's requester), and by nobody else", async () => {
    const regions = testRegions();
    const { deps: midlands, order } = await turnaroundCase(regions, {
      order: {
        priority: 'stat',
        code: { coding: procedureCodings(IMAGING_PROCEDURE_CODES.mriLumbosacralSpine) },
        reasonCode: [{ coding: [CAUDA_EQUINA_SYNDROME] }],
      },
    });
    regions.clock.advance(4 * HOUR);
    expect(await checkTurnarounds(midlands)).toMatchObject({ breached: 1 });
    const [flag] = (await flags(midlands)) as (Flag & { id: string })[];
    const gateway = await testGateway(midlands);

    const ris = await client(gateway, RIS_TOKEN);
    const read = await ris(`/fhir/Flag/${flag?.id}`);
    expect(read.status).toBe(200);
    expect((JSON.parse(read.text) as Flag).code?.coding?.[0]?.code).toBe('ces-imaging');
    expect(matches((await ris(`/fhir/Flag?patient=${order.subject?.reference}`)).text)).toEqual([flag?.id]);
    expect(matches((await ris(`/fhir/Flag?identifier=${SYSTEMS.flag}|${flag?.identifier?.[0]?.value}`)).text)).toEqual([
      flag?.id,
    ]);
    // Its notice to the provider too.
    expect(matches((await ris(`/fhir/Communication?recipient:identifier=${ODS_SYSTEM}|RM1`)).text)).toHaveLength(1);

    const outsider = await client(gateway, MIDLANDS_GP);
    const unknown = await outsider('/fhir/Flag/no-such-flag');
    expect(unknown.status).toBe(404);
    expect(await outsider(`/fhir/Flag/${flag?.id}`)).toEqual(unknown);
    expect(matches((await outsider('/fhir/Flag')).text)).toEqual([]);
    expect(matches((await outsider(`/fhir/Communication?recipient:identifier=${ODS_SYSTEM}|RM1`)).text)).toEqual([]);

    const strict = await ris('/fhir/Flag?date=2026-11-23', 'handling=strict');
    expect(strict.status).toBe(400);
    expect((JSON.parse(strict.text) as OperationOutcome).issue[0]?.expression).toEqual(['date']);
  });
});
