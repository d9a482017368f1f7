/**
 * The conformance suite's reusable parts: starting HAPI FHIR for tests (a container or the jar),
 * describing a FHIR server, the recorded deviations, and the report writers. The suite itself runs
 * with `pnpm conformance` (src/cli/main.ts).
 */
export {
  HapiFhirContainer,
  StartedHapiFhirContainer,
  OFFICIAL_HAPI_IMAGE,
  LOCAL_HAPI_IMAGE_NAME,
  PARTITIONS,
} from './server/hapi-container.ts';
export {
  buildJar,
  HAPI_DIR,
  HAPI_JAR,
  PREVIOUS_HAPI_JAR,
  REPO_ROOT,
  startHapiJar,
  waitForMetadata,
} from './server/hapi-jar.ts';
export type { StartedHapiJar, HapiJarOptions } from './server/hapi-jar.ts';
export { detectContainerRuntime } from './server/container-runtime.ts';
export type { ContainerRuntime } from './server/container-runtime.ts';
export { describeServer, ensurePartitions, resolveTarget } from './server/resolve.ts';
export type { HapiMode } from './server/resolve.ts';
export type { ResolvedTarget, TargetInfo } from './server/types.ts';
export {
  createRunDatabase,
  describeRows,
  dropRunDatabase,
  hapiDatabaseEnvironment,
  hapiRows,
  postgresServerFromEnv,
  psql,
} from './server/postgres.ts';
export type { HapiRows, PostgresDatabase, PostgresServer } from './server/postgres.ts';
export { prepareServer } from './server/prepare.ts';
export { allDeviations, knownDeviation, SERVER_DEVIATIONS } from './deviations.ts';
export type { RecordedDeviation, ServerKind } from './deviations.ts';
export { recordingFetch } from './record/exchange.ts';
export type { Exchange } from './record/exchange.ts';
export { renderHtml } from './report/html.ts';
export { toTestReport } from './report/testreport.ts';
export { ConformanceReporter } from './report/reporter.ts';
export type { ReportModel } from './report/model.ts';
