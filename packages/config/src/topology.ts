import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The shape of a deployment: the hub, the regions (imaging networks) with their gateways, the
 * organisations each region serves, and the API clients registered with the hub. The demo, the dev
 * key set-up, the hub's directory seed and the token CLI all read the same topology.
 */

const odsCode = z.string().regex(/^[A-Z0-9]{3,10}$/, 'an ODS code: 3-10 upper-case letters or digits');
const id = z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes');

/** `observer`: a read-only national view of the flow (the flow view); it belongs to no region or organisation. */
export const ClientKind = z.enum(['referrer', 'provider', 'clinician', 'gateway', 'observer']);
export type ClientKind = z.infer<typeof ClientKind>;

/**
 * Someone an alert can go to: the hub's directory holds each as a Practitioner and a PractitionerRole,
 * both with this id. Someone who has left stays in the directory, inactive, so an alert for them is
 * escalated at once instead of waiting for an answer that cannot come.
 */
const person = z.object({
  id,
  name: z.string().min(1),
  active: z.boolean().optional(),
});

/** A site-specific cancer MDT's role: `mdt-<site>` (the sites are `MDT_SITES` of @imaging/fhir, e.g. mdt-lung). */
const mdtRole = z.custom<`mdt-${string}`>(
  (value) => typeof value === 'string' && /^mdt-[a-z]+(?:-[a-z]+)*$/.test(value),
  'mdt-<site>, such as mdt-lung',
);

/**
 * An organisation's part in the alert workflow: who requests, who deputises, who is responsible; and the
 * cancer MDTs a CANCER alert on its reports reaches, by site (`mdt-lung`) or for any site (`cancer-mdt`);
 * at a trust, the spinal on-call team, told of a CRITICAL finding on a suspected cauda equina MRI.
 */
export const PersonRole = z.union([
  z.enum(['requesting-clinician', 'delegate', 'responsible-clinician', 'spinal-on-call', 'cancer-mdt']),
  mdtRole,
]);
export type PersonRole = z.infer<typeof PersonRole>;

export const TopologySchema = z.object({
  hub: z.object({
    /** Where the services reach the hub inside the deployment (the gateways' `HUB_URL`). */
    url: z.url(),
    port: z.number().int(),
    /** Where clients reach it, when not at `url` (a published port, an ingress): its `PUBLIC_URL`, the `iss` of its tokens. */
    publicUrl: z.url().optional(),
  }),
  regions: z
    .array(
      z.object({
        id,
        name: z.string(),
        /** The id the router knows the region's gateway by (BaRS `NHSD-Target-Identifier`). */
        serviceId: z.string().min(1),
        /** Where the hub reaches the gateway inside the deployment. */
        url: z.url(),
        port: z.number().int(),
        /**
         * Where clients reach it, when not at `url` (a published port, an ingress): the gateway's
         * `PUBLIC_URL`, so the address the directory gives and the links the gateway writes.
         */
        publicUrl: z.url().optional(),
        /** The imaging network's fail-safe officer: the last step of every alert's escalation ladder. */
        failSafeOfficer: person.optional(),
      }),
    )
    .min(1),
  organisations: z.array(
    z.object({
      ods: odsCode,
      name: z.string(),
      region: id,
      kind: z.enum(['gp-practice', 'imaging-provider', 'trust']),
      /** Its requesting clinicians, their delegate and the responsible consultant or GP; a trust's spinal on-call team. */
      people: z.array(person.extend({ role: PersonRole })).optional(),
    }),
  ),
  clients: z.array(
    z.object({
      id,
      kind: ClientKind,
      /** Every client but an observer belongs to a region. */
      region: id.optional(),
      /** The organisation the client acts for; gateways act for their region. */
      organisation: odsCode.optional(),
      scopes: z.array(z.string().min(1)).min(1),
    }),
  ),
});

export type Topology = z.infer<typeof TopologySchema>;
export type Region = Topology['regions'][number];
export type Organisation = Topology['organisations'][number];
export type TopologyClient = Topology['clients'][number];
export type Person = z.infer<typeof person>;

/** Gateways talk to the hub: routing, the locator, and reading the directory (alert recipients included). */
const GATEWAY_SCOPES = [
  'hub/route',
  'system/DocumentReference.crs',
  'system/Organization.rs',
  'system/Endpoint.rs',
  'system/PractitionerRole.rs',
  'system/Practitioner.rs',
];

/** Fictional people for the development topology: a requesting clinician, a delegate and the responsible one. */
const staff = (prefix: string, requester: string, delegate: string, responsible: string) => [
  {
    id: `${prefix}-${requester.split(' ').at(-1)?.toLowerCase()}`,
    name: requester,
    role: 'requesting-clinician' as const,
  },
  { id: `${prefix}-${delegate.split(' ').at(-1)?.toLowerCase()}`, name: delegate, role: 'delegate' as const },
  {
    id: `${prefix}-${responsible.split(' ').at(-1)?.toLowerCase()}`,
    name: responsible,
    role: 'responsible-clinician' as const,
  },
];

/** A trust's spinal on-call team (fictional): one PractitionerRole the directory holds for the whole rota. */
const spinalOnCall = (ods: string, name: string) => ({
  id: `${ods.toLowerCase()}-spinal-on-call`,
  name: `Spinal on-call team, ${name}`,
  role: 'spinal-on-call' as const,
});

/**
 * What the flow view reads: the directory (to find the services), each service's event feed
 * (`flow/events`: what moves, no patient data) and the full story of one case (`flow/case`).
 */
export const FLOW_VIEW_SCOPES = ['system/Organization.rs', 'system/Endpoint.rs', 'flow/events', 'flow/case'] as const;

export interface DevTopologyOptions {
  /**
   * Added to every port (hub 4000, gateways 4101-4103), so a second topology (a test, a demo on HAPI)
   * can run beside the default one. Default 0.
   */
  portOffset?: number;
}

/**
 * The development topology: a hub and three regions on 127.0.0.1. The ODS codes are fictional and
 * only shaped like real ones (a GP practice is a letter and five digits, a trust three characters).
 */
export function devTopology(host = '127.0.0.1', options: DevTopologyOptions = {}): Topology {
  const offset = options.portOffset ?? 0;
  if (!Number.isInteger(offset) || 4000 + offset < 1 || 4103 + offset > 65535) {
    throw new RangeError(`devTopology: portOffset ${offset} puts the ports outside 1-65535`);
  }
  const port = (p: number) => p + offset;
  const url = (p: number) => `http://${host}:${port(p)}`;
  return {
    hub: { url: url(4000), port: port(4000) },
    regions: [
      {
        id: 'north',
        name: 'North Imaging Network',
        serviceId: 'imaging-north',
        url: url(4101),
        port: port(4101),
        failSafeOfficer: { id: 'north-failsafe', name: 'Jo Fairweather' },
      },
      {
        id: 'midlands',
        name: 'Midlands Imaging Network',
        serviceId: 'imaging-midlands',
        url: url(4102),
        port: port(4102),
        failSafeOfficer: { id: 'midlands-failsafe', name: 'Chris Dunmore' },
      },
      {
        id: 'south',
        name: 'South Imaging Network',
        serviceId: 'imaging-south',
        url: url(4103),
        port: port(4103),
        failSafeOfficer: { id: 'south-failsafe', name: 'Alex Penrose' },
      },
    ],
    organisations: [
      {
        ods: 'N81001',
        name: 'Riverside Medical Practice',
        region: 'north',
        kind: 'gp-practice',
        people: [
          ...staff('n81001', 'Dr Asha Patel', 'Dr Ben Okafor', 'Dr Clare Hughes'),
          // A GP who has left the practice: an alert for them goes straight to the delegate.
          { id: 'n81001-reed', name: 'Dr Tom Reed', role: 'requesting-clinician', active: false },
        ],
      },
      // A second practice in the same region, so that isolation between practices of one region shows.
      {
        ods: 'N81002',
        name: 'Millbrook Surgery',
        region: 'north',
        kind: 'gp-practice',
        people: staff('n81002', 'Dr Maya Singh', 'Dr Leo Fraser', 'Dr Joan Hart'),
      },
      {
        ods: 'RN1',
        name: 'North Hospitals NHS Trust',
        region: 'north',
        kind: 'imaging-provider',
        people: [
          ...staff('rn1', 'Dr Priya Shah', 'Dr Sam Lee', 'Dr Helen Ward'),
          spinalOnCall('RN1', 'North Hospitals'),
          // The trust's cancer MDTs: a CANCER alert on its reports reaches the one for the suspected site.
          { id: 'rn1-lung-mdt', name: 'North Hospitals lung cancer MDT', role: 'mdt-lung' },
          { id: 'rn1-cancer-mdt', name: 'North Hospitals cancer MDT office', role: 'cancer-mdt' },
        ],
      },
      {
        ods: 'M81001',
        name: 'Canal Street Surgery',
        region: 'midlands',
        kind: 'gp-practice',
        people: staff('m81001', 'Dr Imran Khan', 'Dr Rhys Evans', 'Dr Ruth Price'),
      },
      {
        ods: 'RM1',
        name: 'Midlands Community Diagnostic Centre',
        region: 'midlands',
        kind: 'imaging-provider',
        people: [
          ...staff('rm1', 'Dr Eva Novak', 'Dr Owen Grant', 'Dr Lily Hall'),
          spinalOnCall('RM1', 'Midlands Community Diagnostic Centre'),
          { id: 'rm1-cancer-mdt', name: 'Midlands cancer MDT office', role: 'cancer-mdt' },
        ],
      },
      {
        ods: 'S81001',
        name: 'Harbour View Health Centre',
        region: 'south',
        kind: 'gp-practice',
        people: staff('s81001', 'Dr Nia Jones', 'Dr Omar Ali', 'Dr Kate Clark'),
      },
      {
        ods: 'RS1',
        name: 'South Coast Hospitals NHS Trust',
        region: 'south',
        kind: 'trust',
        people: [
          ...staff('rs1', 'Dr Rose Morgan', 'Dr Adam Bell', 'Dr Grace Wright'),
          spinalOnCall('RS1', 'South Coast Hospitals'),
        ],
      },
    ],
    clients: [
      ...['north', 'midlands', 'south'].map((region) => ({
        id: `gateway-${region}`,
        kind: 'gateway' as const,
        region,
        scopes: GATEWAY_SCOPES,
      })),
      {
        id: 'gp-n81001',
        kind: 'referrer',
        region: 'north',
        organisation: 'N81001',
        scopes: [
          'system/Patient.crs',
          'system/ServiceRequest.crs',
          'system/Task.rus',
          'system/DiagnosticReport.rs',
          'system/ImagingStudy.rs',
          'system/Communication.rs',
          'system/Flag.rs',
          'report/learning',
        ],
      },
      {
        id: 'gp-n81002',
        kind: 'referrer',
        region: 'north',
        organisation: 'N81002',
        scopes: [
          'system/Patient.crs',
          'system/ServiceRequest.crs',
          'system/Task.rus',
          'system/DiagnosticReport.rs',
          'system/ImagingStudy.rs',
          'system/Communication.rs',
          'system/Flag.rs',
          'report/learning',
        ],
      },
      {
        id: 'ris-rm1',
        kind: 'provider',
        region: 'midlands',
        organisation: 'RM1',
        scopes: [
          'system/Patient.rs',
          'system/ServiceRequest.rs',
          'system/Task.rus',
          'system/ImagingStudy.crus',
          'system/DiagnosticReport.crus',
          'system/Endpoint.crs',
          'system/Communication.rs',
          'system/Flag.rs',
          'report/learning',
        ],
      },
      {
        id: 'clinician-rs1',
        kind: 'clinician',
        region: 'south',
        organisation: 'RS1',
        scopes: ['system/DocumentReference.rs', 'system/ImagingStudy.rs', 'system/DiagnosticReport.rs'],
      },
      {
        // The flow view (services/flow-view): reads the directory, each service's event feed and case trails.
        id: 'flow-view',
        kind: 'observer',
        scopes: [...FLOW_VIEW_SCOPES],
      },
    ],
  };
}

/** Reads and checks a topology file (JSON), naming every problem. */
export function readTopology(path: string): Topology {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read topology ${path}: ${(err as Error).message}`);
  }
  return parseTopology(raw, path);
}

export function parseTopology(raw: unknown, source = 'topology'): Topology {
  const result = TopologySchema.safeParse(raw);
  if (!result.success) {
    throw new Error(
      `Invalid ${source}:\n${result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  const topology = result.data;
  const regions = new Set(topology.regions.map((r) => r.id));
  const orgs = new Set(topology.organisations.map((o) => o.ods));
  const problems = [
    ...topology.organisations
      .filter((o) => !regions.has(o.region))
      .map((o) => `organisation ${o.ods}: unknown region '${o.region}'`),
    ...topology.clients
      .filter((c) => c.region !== undefined && !regions.has(c.region))
      .map((c) => `client ${c.id}: unknown region '${c.region}'`),
    ...topology.clients
      .filter((c) => c.kind !== 'observer' && c.region === undefined)
      .map((c) => `client ${c.id}: needs a region`),
    ...topology.clients
      .filter((c) => c.organisation && !orgs.has(c.organisation))
      .map((c) => `client ${c.id}: unknown organisation '${c.organisation}'`),
    ...topology.clients
      .filter((c) => c.kind !== 'gateway' && c.kind !== 'observer' && !c.organisation)
      .map((c) => `client ${c.id}: needs an organisation`),
    ...duplicates(peopleOf(topology)).map((personId) => `person ${personId}: the same id twice`),
  ];
  if (problems.length) throw new Error(`Invalid ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return topology;
}

/** Everyone the directory holds, by id: each organisation's people and each region's fail-safe officer. */
export function peopleOf(topology: Topology): string[] {
  return [
    ...topology.regions.flatMap((r) => (r.failSafeOfficer ? [r.failSafeOfficer.id] : [])),
    ...topology.organisations.flatMap((o) => (o.people ?? []).map((p) => p.id)),
  ];
}

function duplicates(values: string[]): string[] {
  return [...new Set(values.filter((v, i) => values.indexOf(v) !== i))];
}

/** A gateway's FHIR base as clients name it (the directory's address) and as the hub reaches it. */
export interface GatewayBase {
  public: string;
  internal: string;
}

const trimmed = (url: string) => url.replace(/\/+$/, '');

/** The FHIR base the directory gives for a region: its public URL when it has one. */
export function publicFhirBase(region: { url: string; publicUrl?: string | undefined }): string {
  return `${trimmed(region.publicUrl ?? region.url)}/fhir`;
}

/** For each region with a public URL of its own, its public and its internal FHIR base. */
export function gatewayBases(topology: Topology): GatewayBase[] {
  return topology.regions
    .filter((r) => r.publicUrl !== undefined && trimmed(r.publicUrl) !== trimmed(r.url))
    .map((r) => ({ public: publicFhirBase(r), internal: `${trimmed(r.url)}/fhir` }));
}
