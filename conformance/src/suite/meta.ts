import type { Exchange } from '../record/exchange.ts';
import type { RecordedDeviation } from '../deviations.ts';
import type { TargetInfo } from '../server/types.ts';

/** What a conformance test leaves for the reporters (vitest carries task meta from worker to reporter). */
declare module 'vitest' {
  interface TaskMeta {
    /** The HTTP exchanges made while the test (or, on a file, outside any test) ran. */
    exchanges?: Exchange[];
    /** Set when the test met a recorded deviation and passed because of it. */
    deviation?: RecordedDeviation;
    /** Facts a test wants in the report beside its result (e.g. `statuses seen: requested → accepted`). */
    notes?: string[];
  }
  interface ProvidedContext {
    /** The FHIR server under test, or null in actor-only runs. */
    target: TargetInfo | null;
    /** The suite's options, from the CLI (or the environment). */
    options: SuiteOptions;
  }
}

export interface SuiteOptions {
  /** `imaging-provider` or `referrer` when testing a vendor's system in a role; null otherwise. */
  actor: ActorRole | null;
  /** The system under test in an actor run; null means our own regional gateway, started by the suite. */
  actorTarget: string | null;
  /** Where the suite's stand-in hub listens in an actor run (a vendor configures their system with it). */
  hubHost: string;
  hubPort: number;
  /** A client jwks_uri the vendor's gateway signs with; absent: the suite's dev key for it. */
  sutJwksUri: string | null;
  /** A vendor imaging provider's orders are worked by the suite's RIS/PACS simulator, through its FHIR API. */
  simulateRis: boolean;
  /** How long a vendor's system may take to work an order through (ms). */
  actorTimeoutMs: number;
  /** Scratch space for this run: logs, data dirs of the services the suite starts. */
  workDir: string;
  runId: string;
  /** The groups this run includes (1-7). */
  groups: number[];
}

export type ActorRole = 'imaging-provider' | 'referrer';
export const ACTOR_ROLES: readonly ActorRole[] = ['imaging-provider', 'referrer'];
