import type { AlertCategory, WithId } from '@imaging/fhir';
import type { Resource } from '@medplum/fhirtypes';

/** The hub as the flow view shows it. */
export const HUB_NODE = 'hub';

/** A region: its gateway, and where the flow view reaches it. */
export interface RegionNode {
  id: string;
  name: string;
  /** The id the router knows its gateway by (`imaging-north`): what deliveries name as their destination. */
  serviceId: string;
  /** The gateway's FHIR base, e.g. http://127.0.0.1:4101/fhir. */
  fhirBase: string;
}

/** An organisation in the directory: a GP practice, an imaging provider, a trust. */
export interface OrganisationInfo {
  ods: string;
  name: string;
  kind?: string;
  region: string;
}

/** What the flow view knows of a deployment, all of it from the hub's directory. */
export interface FlowTopology {
  /** The hub's base URL (without /fhir). */
  hubUrl: string;
  /** Ordered north to south, as they are drawn. */
  regions: RegionNode[];
  organisations: OrganisationInfo[];
}

/** The hub's directory, read with the flow view's own token. */
export interface DirectoryPort {
  read(): Promise<FlowTopology>;
}

/** Where a case's trail is read: the hub, or a region's gateway. */
export type TrailSource = { kind: 'hub' } | { kind: 'region'; region: RegionNode };

/** A service's `$case-trail`: every version of what it holds about one case. */
export interface TrailPort {
  trail(source: TrailSource, correlationId: string): Promise<WithId<Resource>[]>;
}

/** What a demo action came to, in words for the audience. */
export interface DemoOutcome {
  ok: boolean;
  text: string;
  /** The case it was about, to link its case view. */
  correlationId?: string;
}

/**
 * The demo's own controls, only when the demo serves the view on its development topology: place an order,
 * issue a report for it, stop a region's gateway and start it again. Absent anywhere else.
 */
export interface DemoControls {
  /** What placing an order and issuing a report do, in a sentence each, for the buttons. */
  readonly about: { order: string; report: string };
  placeOrder(): Promise<DemoOutcome>;
  issueReport(category: AlertCategory): Promise<DemoOutcome>;
  stopRegion(regionId: string): Promise<DemoOutcome>;
  startRegion(regionId: string): Promise<DemoOutcome>;
  /** The regions it can stop and start, and whether each runs now. */
  regions(): { id: string; running: boolean }[];
}
