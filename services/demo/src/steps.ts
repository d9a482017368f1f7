import type { Topology } from '@imaging/config';
import { isOutcomeError } from '@imaging/fhir';
import type { OutcomeError } from '@imaging/fhir';
import type { Clinician, FhirClient, Referrer, RisPacs } from '@imaging/simulators';
import type { ServiceProcess } from '@imaging/service-process';
import type { Stores } from './evidence.ts';
import type { RunningFlowView } from './flow-view.ts';
import type { DemoOptions } from './options.ts';
import type { Timeline } from './timeline.ts';
import type { RunIds, ServiceName } from './world.ts';

/** The simulated systems, each acting with its own credentials against its own service. */
export interface Actors {
  /** GP practice N81001's system, at the north gateway. */
  gp: Referrer;
  /** The same system's raw FHIR client (to crash the north straight after a write). */
  gpClient: FhirClient;
  /** RM1's RIS/PACS at the midlands gateway. */
  ris: RisPacs;
  /** RS1's clinician system, at the national hub's locator. */
  clinician: Clinician;
  /** Clients used where they do not belong, for the security checks. */
  gpAtMidlands: FhirClient;
  gpAtHub: FhirClient;
  /** The clinician's raw client at the hub (for a search the Clinician would never make). */
  clinicianAtHub: FhirClient;
  clinicianAtNorth: FhirClient;
}

/** Everything the steps share: the running topology, its stores, the actors and what happened so far. */
export interface DemoContext {
  options: DemoOptions;
  topology: Topology;
  dataDir: string;
  ids: RunIds;
  timeline: Timeline;
  services: Record<ServiceName, ServiceProcess>;
  /** When the run started: the hub's audit trail is searched from here. */
  startedAt: Date;
  stores?: Stores;
  actors?: Actors;
  /** The flow view, with --explore, once the topology is up. */
  flowView?: RunningFlowView;
  /** Facts later steps build on (ids of what earlier steps made). */
  facts: Map<string, unknown>;
}

export interface Step {
  title: string;
  run(ctx: DemoContext): Promise<void>;
}

export class CheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

/** A verification: passes (and is printed) or fails the step with what was expected. */
export function verify(ctx: DemoContext, where: string, what: string, ok: boolean, found?: unknown): void {
  if (!ok)
    throw new CheckFailed(`${where}: expected ${what}${found === undefined ? '' : ` — found ${describe(found)}`}`);
  ctx.timeline.check(where, what);
}

/** A call that must be refused with `status`; returns the refusal. */
export async function refused(call: Promise<unknown>, status: number, what: string): Promise<OutcomeError> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    if (isOutcomeError(err) && err.status === status) return err;
    throw new CheckFailed(
      `${what}: expected ${status}, got ${isOutcomeError(err) ? `${err.status} ${err.message}` : String(err)}`,
    );
  }
  throw new CheckFailed(`${what}: expected ${status}, but it succeeded (${describe(result)})`);
}

export function fact<T>(ctx: DemoContext, key: string): T {
  if (!ctx.facts.has(key)) throw new CheckFailed(`an earlier step did not leave '${key}'`);
  return ctx.facts.get(key) as T;
}

export function stores(ctx: DemoContext): Stores {
  if (!ctx.stores) throw new CheckFailed('the stores are not open (the topology did not start)');
  return ctx.stores;
}

export function actors(ctx: DemoContext): Actors {
  if (!ctx.actors) throw new CheckFailed('the simulated systems are not connected (the topology did not start)');
  return ctx.actors;
}

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text && text.length > 160 ? `${text.slice(0, 160)}…` : String(text);
}
