import { AbstractStartedContainer, GenericContainer, Wait } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';

/** The official image, pinned to the HAPI FHIR release our launcher is built on. */
export const OFFICIAL_HAPI_IMAGE = 'hapiproject/hapi:v8.8.0-1';
/** Our image, built from Debian packages by infra/podman/build-images.sh (tagged with the launcher's version). */
export const LOCAL_HAPI_IMAGE_NAME = 'localhost/imaging-connect/hapi-fhir';

export const HAPI_PORT = 8080;
/** A JVM warming a JPA server on two busy cores can take minutes. */
export const HAPI_STARTUP_TIMEOUT_MS = 10 * 60_000;

/** The partitions the pathway needs, plus the suite's own. */
export const PARTITIONS = ['hub', 'north', 'midlands', 'south', 'conformance'] as const;

export type HapiImageFlavour = 'official' | 'local';

/**
 * HAPI FHIR R4 in a container, ready when `/fhir/metadata` answers 200 (the JVM listens long before
 * FHIR is ready). In-memory H2, so every run starts empty; URL-based partitions.
 */
export class HapiFhirContainer extends GenericContainer {
  constructor(
    image: string = OFFICIAL_HAPI_IMAGE,
    flavour: HapiImageFlavour = image === OFFICIAL_HAPI_IMAGE ? 'official' : 'local',
  ) {
    super(image);
    this.withExposedPorts(HAPI_PORT)
      // The first CapabilityStatement is slow to build: a short read timeout would abort (and restart) it forever.
      .withWaitStrategy(
        Wait.forHttp('/fhir/metadata', HAPI_PORT, { abortOnContainerExit: true })
          .forStatusCode(200)
          .withReadTimeout(30_000),
      )
      .withStartupTimeout(HAPI_STARTUP_TIMEOUT_MS)
      .withEnvironment(flavour === 'official' ? officialEnvironment() : localEnvironment());
    // Published on loopback only (testcontainers would publish on every interface): a test server
    // is for this machine, not its network.
    this.hostConfig.PortBindings = { [`${HAPI_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }] };
  }

  override async start(): Promise<StartedHapiFhirContainer> {
    return new StartedHapiFhirContainer(await super.start());
  }
}

export class StartedHapiFhirContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer) {
    super(started);
  }

  /** The server's FHIR root, e.g. `http://127.0.0.1:32771/fhir`. */
  getBaseUrl(): string {
    return `http://${this.getHost()}:${this.getMappedPort(HAPI_PORT)}/fhir`;
  }
}

/** Our launcher reads HAPI_* variables (infra/hapi-fhir/README.md). */
function localEnvironment(): Record<string, string> {
  return { HAPI_DB_URL: 'mem', HAPI_PARTITIONS: PARTITIONS.join(','), JAVA_TOOL_OPTIONS: '-Xmx1536m' };
}

/**
 * The official image is the jpaserver-starter, configured through Spring properties: URL-based
 * (request tenant) partitioning, so the partitions can be created with $partition-management-create-partition.
 */
function officialEnvironment(): Record<string, string> {
  const properties = {
    hapi: {
      fhir: {
        fhir_version: 'R4',
        partitioning: { request_tenant_partitioning_mode: true, allow_references_across_partitions: false },
        reuse_cached_search_results_millis: 0,
      },
    },
  };
  return { SPRING_APPLICATION_JSON: JSON.stringify(properties), JAVA_TOOL_OPTIONS: '-Xmx1536m' };
}
