import type { AccessTokenContent } from '@imaging/auth';
import { searchAll } from '@imaging/fhir';
import type {
  AuditEvent,
  Bundle,
  BundleEntry,
  CapabilityStatement,
  OperationOutcome,
  Resource,
} from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { GP_TOKEN, RIS_TOKEN, testGateway } from '../testing/app.ts';
import { reportedCase } from '../testing/pathway.ts';

/** A batch of reads at the gateway's base: each entry is what the same read alone would be, no more. */

const OTHER_GP: AccessTokenContent = { ...GP_TOKEN, sub: 'gp-n81002', org: 'N81002' };

async function world() {
  const { regions, north } = await reportedCase();
  const gateway = await testGateway(regions.north);
  const as = async (who: AccessTokenContent) => {
    const auth = { Authorization: `Bearer ${await gateway.token(who)}` };
    return {
      alone: (url: string) => gateway.app.request(`/fhir/${url}`, { headers: auth }),
      batch: (urls: string[]) =>
        gateway.app.request('/fhir', {
          method: 'POST',
          headers: { ...auth, 'Content-Type': 'application/fhir+json' },
          body: JSON.stringify({
            resourceType: 'Bundle',
            type: 'batch',
            entry: urls.map((url) => ({ request: { method: 'GET', url } })),
          }),
        }),
    };
  };
  return { north, gateway, as, deps: regions.north };
}

/** What a response says, in the terms a batch entry says it: its status, and the resource or its ids. */
async function gist(status: number, body: Resource | undefined) {
  const ids = body?.resourceType === 'Bundle' ? (body as Bundle).entry?.map((e) => e.resource?.id) : undefined;
  return { status, resourceType: body?.resourceType, id: ids ? undefined : body?.id, ids };
}

const ofEntry = (entry: BundleEntry) =>
  gist(Number.parseInt(entry.response?.status ?? '', 10), entry.resource ?? entry.response?.outcome);

describe('a batch of reads at the gateway', () => {
  it('is declared in the CapabilityStatement, reads only', async () => {
    const { gateway } = await world();
    const statement = (await (await gateway.app.request('/fhir/metadata')).json()) as CapabilityStatement;
    expect(statement.rest?.[0]?.interaction).toEqual([
      { code: 'batch', documentation: expect.stringMatching(/GET entries only, at most 100/) },
    ]);
  });

  it.each([
    ['the practice that placed the order', GP_TOKEN],
    ['another practice, which may see none of it', OTHER_GP],
  ])('answers %s entry by entry as each read alone is answered', async (_who, token) => {
    const { north, as } = await world();
    const urls = [
      `ServiceRequest/${north.ServiceRequest.id}`,
      `Task?focus=ServiceRequest/${north.ServiceRequest.id}`,
      `DiagnosticReport/${north.DiagnosticReport.id}`,
      `Patient/${north.Patient.id}`,
      'ServiceRequest/unknown',
    ];
    const caller = await as(token);
    const alone = [];
    for (const url of urls) {
      const res = await caller.alone(url);
      alone.push(await gist(res.status, (await res.json()) as Resource));
    }
    const res = await caller.batch(urls);
    expect(res.status).toBe(200);
    const batch = (await res.json()) as Bundle;
    expect(await Promise.all((batch.entry ?? []).map(ofEntry))).toEqual(alone);
    // The worlds differ by caller: the batch widened nothing, and narrowed nothing.
    expect(alone.map((a) => a.status)).toEqual(
      token === GP_TOKEN ? [200, 200, 200, 200, 404] : [404, 200, 404, 404, 404],
    );
  });

  it("refuses another region's client whole, before any entry runs, as each read alone is refused", async () => {
    const { north, as } = await world();
    const ris = await as(RIS_TOKEN);
    const url = `ServiceRequest/${north.ServiceRequest.id}`;
    expect((await ris.alone(url)).status).toBe(403);
    const res = await ris.batch([url]);
    expect(res.status).toBe(403);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue[0]?.code).toBe('forbidden');
  });

  it('records each read it discloses, with the entry as the query, as the reads alone would', async () => {
    const { north, gateway, as, deps } = await world();
    const disclosed = async () =>
      (await searchAll<AuditEvent>(deps.store, 'AuditEvent')).filter((e) =>
        ['resource-read', 'resources-searched'].includes(e.subtype?.[0]?.code ?? ''),
      );
    const before = (await disclosed()).length;
    const caller = await as(GP_TOKEN);
    const urls = [`ServiceRequest/${north.ServiceRequest.id}`, `Task?focus=ServiceRequest/${north.ServiceRequest.id}`];
    expect((await caller.batch(urls)).status).toBe(200);
    await gateway.disclosures.flush();
    const events = (await disclosed()).slice(before);
    const queries = events.map((e) => Buffer.from(e.entity?.find((x) => x.query)?.query ?? '', 'base64').toString());
    expect(queries.sort()).toEqual([...urls].sort());
  });
});
