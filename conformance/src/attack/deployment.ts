import { signAccessToken } from '@imaging/auth';
import type { AccessTokenContent } from '@imaging/auth';
import { NHS_NUMBER_SYSTEM, ODS_SYSTEM } from '@imaging/fhir';
import { HUB_SERVICE_SCOPES } from '@imaging/national-hub';
import { snapshotStores } from './snapshot.ts';
import type { AttackSurface, Credential, Probe } from './surface.ts';
import { mintToken } from './tokens.ts';
import type { AttackWorld } from './world.ts';

/**
 * The attack surface of a world: its apps, real and hand-made tokens, the identities they stand for, its
 * stores' state, and the legitimate requests that must keep working (each showing its caller's own data,
 * which also proves the marker scan can see a marker when one is there).
 */
export function attackSurface(world: AttackWorld, internals: readonly string[] = []): AttackSurface {
  const issuer = world.net.hub.publicUrl;
  const contentOf = (client: string, scopes?: readonly string[]): AccessTokenContent => {
    if (client === 'national-hub')
      return { sub: client, client_kind: 'hub', scope: [...(scopes ?? HUB_SERVICE_SCOPES)] };
    const registered = world.topology.clients.find((c) => c.id === client);
    if (!registered) throw new Error(`no client ${client}`);
    return {
      sub: client,
      client_kind: registered.kind,
      scope: [...(scopes ?? registered.scopes)],
      region: registered.region,
      ...(registered.organisation ? { org: registered.organisation } : {}),
    };
  };
  const markerOf = (what: string) => {
    const found = world.markers.find((m) => m.what === what);
    if (!found) throw new Error(`no marker ${what}`);
    return found.text;
  };
  const { seeded } = world;
  const as = (client: string, scope?: string): Credential => ({ kind: 'client', client, ...(scope ? { scope } : {}) });
  const probes: Probe[] = [
    {
      name: 'gp-n81001 lists its orders at the north, with their reasons',
      service: 'north',
      credential: as('gp-n81001'),
      request: { method: 'GET', path: '/fhir/ServiceRequest?_count=100' },
      status: 200,
      shows: [markerOf(`${seeded.placer.A}-reason`), markerOf(`${seeded.placer.B}-reason`)],
    },
    {
      name: 'gp-n81001 reads the report on case A at the north',
      service: 'north',
      credential: as('gp-n81001'),
      request: { method: 'GET', path: `/fhir/DiagnosticReport/${seeded.north.A.report}` },
      status: 200,
      shows: [markerOf('A-report')],
    },
    {
      name: 'gp-n81001, with a fresh token for Patient reads only, finds its patient by NHS number',
      service: 'north',
      credential: as('gp-n81001', 'system/Patient.rs'),
      request: { method: 'GET', path: `/fhir/Patient?identifier=${NHS_NUMBER_SYSTEM}|${seeded.nhs.A}` },
      status: 200,
      shows: [markerOf('A-patient')],
    },
    {
      name: "ris-rm1 lists its Tasks at the midlands, with case B's progress",
      service: 'midlands',
      credential: as('ris-rm1'),
      request: { method: 'GET', path: '/fhir/Task?_count=100' },
      status: 200,
      shows: [markerOf('B-progress')],
    },
    {
      name: 'gp-s81001 reads its patient at the south',
      service: 'south',
      credential: as('gp-s81001'),
      request: { method: 'GET', path: `/fhir/Patient/${seeded.south.C.patient}` },
      status: 200,
      shows: [markerOf('C-patient')],
    },
    {
      name: 'gateway-north finds RM1 in the directory',
      service: 'hub',
      credential: as('gateway-north'),
      request: { method: 'GET', path: `/fhir/Organization?identifier=${ODS_SYSTEM}|RM1` },
      status: 200,
    },
    {
      name: "clinician-rs1 retrieves case A's report through the locator",
      service: 'hub',
      credential: as('clinician-rs1'),
      request: { method: 'GET', path: `/fhir/DocumentReference/${seeded.hub.pointer}/$retrieve` },
      status: 200,
      shows: [markerOf('A-report')],
    },
  ];

  return {
    send: world.send,
    async authorization(credential) {
      switch (credential.kind) {
        case 'none':
          return undefined;
        case 'header':
          return credential.value;
        case 'client':
          return `Bearer ${await world.tokenFor(credential.client, credential.scope)}`;
        case 'signed':
          return `Bearer ${(await signAccessToken(contentOf(credential.client, credential.scopes), { signingKey: world.hubKey, issuer })).access_token}`;
        case 'minted':
          return `Bearer ${await mintToken(credential.variant, contentOf(credential.client), { key: world.hubKey, issuer }, () => world.tokenFor(credential.client))}`;
      }
    },
    identity(credential) {
      return credential.kind === 'client' || credential.kind === 'signed'
        ? world.identity(credential.client)
        : undefined;
    },
    snapshot: () => snapshotStores(world.stores),
    markers: world.markers,
    internals: [...new Set([...internals, ...Object.values(world.stores).map((s) => s.description)])],
    probes,
  };
}
