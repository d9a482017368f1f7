import type { OperationOutcome, ServiceRequest, Task } from '@medplum/fhirtypes';
import { clientCredentialsTokenSource, generateSigningKey, signAccessToken, tokenEndpointOf } from '@imaging/auth';
import { SYSTEMS } from '@imaging/fhir';
import type { PlacedOrder } from '@imaging/fhir';
import { byIdentifier } from './evidence.ts';
import { orderFor } from './pathway.ts';
import type { DemoContext, Step } from './steps.ts';
import { actors, CheckFailed, fact, refused, stores, verify } from './steps.ts';
import { short } from './timeline.ts';

const FORBIDDEN_ORDER = 9;

function gatewayUrl(ctx: DemoContext, region: string): string {
  return `${ctx.topology.regions.find((r) => r.id === region)?.url}/fhir`;
}

/** A raw call with whatever Authorization header is given (or none): what an attacker would send. */
async function rawGet(
  url: string,
  token?: string,
): Promise<{ status: number; challenge: string | null; outcome: OperationOutcome | undefined }> {
  const res = await fetch(url, {
    headers: { Accept: 'application/fhir+json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json().catch(() => undefined)) as OperationOutcome | undefined;
  return {
    status: res.status,
    challenge: res.headers.get('WWW-Authenticate'),
    outcome: body?.resourceType === 'OperationOutcome' ? body : undefined,
  };
}

const refusedAtGateways: Step = {
  title: 'Security at the gateways: the wrong region, no token and a forged token are refused, and nothing is written',
  async run(ctx) {
    const { gpAtMidlands, clinicianAtNorth } = actors(ctx);
    const t = ctx.timeline;
    const north = gatewayUrl(ctx, 'north');

    const wrongRegion = await refused(
      gpAtMidlands.search<Task>('Task'),
      403,
      "gp-n81001's token at the midlands gateway",
    );
    t.event({
      where: 'midlands',
      who: 'gp-n81001',
      what: `GET Task with a north client's token → 403: ${wrongRegion.message}`,
    });

    const order = orderFor(ctx, FORBIDDEN_ORDER);
    await refused(
      gpAtMidlands.create<ServiceRequest>(order),
      403,
      'gp-n81001 placing an order at the midlands gateway',
    );
    t.event({
      where: 'midlands',
      who: 'gp-n81001',
      what: `POST ServiceRequest ${ctx.ids.placer(FORBIDDEN_ORDER)} at the midlands gateway → 403`,
    });
    const written = [
      ...(await byIdentifier(
        stores(ctx).region('midlands'),
        'ServiceRequest',
        SYSTEMS.placerOrder,
        ctx.ids.placer(FORBIDDEN_ORDER),
      )),
      ...(await byIdentifier(
        stores(ctx).region('north'),
        'ServiceRequest',
        SYSTEMS.placerOrder,
        ctx.ids.placer(FORBIDDEN_ORDER),
      )),
    ];
    verify(
      ctx,
      'midlands',
      `nothing written: no order ${ctx.ids.placer(FORBIDDEN_ORDER)} in any store`,
      written.length === 0,
      written.length,
    );

    const anonymous = await rawGet(`${north}/Task`);
    t.event({
      where: 'north',
      who: '(no token)',
      what: `GET Task without a token → ${anonymous.status}, WWW-Authenticate: ${anonymous.challenge?.split(' ')[0] ?? 'none'}`,
    });
    verify(
      ctx,
      'north',
      '401 with a Bearer challenge and an OperationOutcome',
      anonymous.status === 401 && !!anonymous.challenge?.startsWith('Bearer') && !!anonymous.outcome,
      anonymous,
    );

    // A well-formed token for the GP, signed by a key the hub never published.
    const forgedKey = await generateSigningKey();
    const forged = await signAccessToken(
      { sub: 'gp-n81001', client_kind: 'referrer', org: 'N81001', region: 'north', scope: ['system/Task.rus'] },
      { signingKey: forgedKey, issuer: ctx.topology.hub.url },
    );
    const forgery = await rawGet(`${north}/Task`, forged.access_token);
    t.event({
      where: 'north',
      who: '(forger)',
      what: `GET Task with a self-signed token claiming gp-n81001 → ${forgery.status}`,
    });
    verify(ctx, 'north', "401: the signature is not the hub's", forgery.status === 401 && !!forgery.outcome, forgery);

    const northTask = fact<PlacedOrder>(ctx, 'order1').task;
    await refused(clinicianAtNorth.read<Task>('Task', northTask.id), 403, "clinician-rs1 reading the north's Task");
    t.event({
      where: 'north',
      who: 'clinician-rs1',
      what: `GET Task/${short(northTask.id)} (the GP's order) with a south token → 403`,
    });
  },
};

const refusedAtHub: Step = {
  title: "Security at the hub: no fishing in the locator, no locator for a GP's token, no token for a stolen identity",
  async run(ctx) {
    const { clinicianAtHub, gpAtHub } = actors(ctx);
    const t = ctx.timeline;

    const fishing = await refused(
      clinicianAtHub.search('DocumentReference'),
      400,
      'a locator search without a patient',
    );
    t.event({
      where: 'national',
      who: 'clinician-rs1',
      what: `GET DocumentReference (no patient) → 400: ${fishing.message}`,
    });

    await refused(
      gpAtHub.search('DocumentReference', {
        'subject:identifier': `https://fhir.nhs.uk/Id/nhs-number|${ctx.ids.nhsNumber}`,
      }),
      403,
      "gp-n81001's token at the locator",
    );
    t.event({
      where: 'national',
      who: 'gp-n81001',
      what: 'GET DocumentReference with a token without the locator scope → 403',
    });

    // Someone with the GP's client id but not its private key asks for a token.
    const impostorKey = await generateSigningKey();
    const impostor = clientCredentialsTokenSource({
      tokenUrl: tokenEndpointOf(ctx.topology.hub.url),
      clientId: 'gp-n81001',
      privateKey: impostorKey.privateKey,
      kid: impostorKey.kid,
    });
    const denied = await refused(impostor.getToken(), 401, 'a token request signed with the wrong key');
    t.event({
      where: 'national',
      who: '(impostor)',
      what: `POST /oauth2/token as gp-n81001, signed with another key → 401`,
    });
    if (!/invalid_client/.test(denied.message))
      throw new CheckFailed(`expected the hub to answer invalid_client, got: ${denied.message}`);
    verify(ctx, 'national', 'the hub refused the assertion (invalid_client)', true);
  },
};

export const securitySteps: Step[] = [refusedAtGateways, refusedAtHub];
