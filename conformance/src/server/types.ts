import type { ServerKind } from '../deviations.ts';
import type { PostgresDatabase } from './postgres.ts';

/** How the FHIR server under test was found. */
export type TargetHow = 'given' | 'container' | 'jar';

/** The FHIR server the groups 1-4 and 6 run against, as the tests see it (plain data: it crosses to the workers). */
export interface TargetInfo {
  how: TargetHow;
  /** One line for logs and reports: which image or jar, which runtime, which URL. */
  detail: string;
  /** The server's root: `http://host:port/fhir` (partitions live beneath it on a partitioned HAPI). */
  root: string;
  /** URL-based partitions under root (`<root>/<partition>/<type>`). */
  partitioned: boolean;
  /** The FHIR base the store contract, capability and resource groups use (a partition where there are partitions). */
  base: string;
  /** Where conformance resources go (StructureDefinition, SearchParameter): `<root>/DEFAULT` on a partitioned HAPI. */
  definitionsBase: string;
  kind: ServerKind;
  /** CapabilityStatement.software, e.g. `HAPI FHIR Server 8.8.0`. */
  software: string;
  /** Measured from starting the server to its first 200 on /fhir/metadata; absent for a given server. */
  startupMs?: number;
  /** The database under a HAPI the suite started; absent for a given server (the suite cannot know). */
  database?: DatabaseInfo;
}

/** Which database a started HAPI stores in. */
export interface DatabaseInfo {
  kind: 'h2' | 'postgres';
  /** For logs and reports, e.g. `in-memory H2` or `PostgreSQL 15.20 (jdbc:postgresql://127.0.0.1:5432/imaging_conformance_…)`. */
  description: string;
  /** PostgreSQL only: where the tests can look at HAPI's own tables. */
  postgres?: PostgresDatabase;
}

/** A started (or found) server, with what it takes to let it go. */
export interface ResolvedTarget {
  info: TargetInfo;
  /** The server's process, when the suite started it as one here (the launcher jar): for measuring its CPU. */
  pid?: number;
  /** Stops what the suite started; does nothing for a server it was given. */
  stop(): Promise<void>;
}
