import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HubEnvSchema } from '@imaging/national-hub';
import { GatewayEnvSchema } from '@imaging/regional-gateway';
import { describe, expect, it } from 'vitest';
import { validateComposeDocument } from './compose-schema.ts';
import type { Container, Deployment } from './deployment.ts';
import {
  allContainers,
  checkComposeHardening,
  checkComposeStartOrder,
  checkImages,
  checkNoPlaintextSecrets,
  checkPodSecurity,
  checkProbes,
  checkPublishedPorts,
  checkServiceEnvironment,
  checkTopologyAgreement,
  composeContainers,
  expectedImages,
  findKeyMaterial,
  kubernetesContainers,
  loadDeployment,
  REPO_DIR,
  TOPOLOGY_DIR,
} from './deployment.ts';
import type { K8sObject } from './kubernetes-schema.ts';
import { describeObject, validateK8sObject } from './kubernetes-schema.ts';
import { parseYamlDocuments } from './yaml.ts';

const deployment = loadDeployment();
/** A deep copy to break in a negative test. */
const copy = (): Deployment => structuredClone(deployment);
const schemas = { hub: HubEnvSchema, gateway: GatewayEnvSchema };
/** kubectl is not needed for these tests; where it is installed, its kustomize build is checked too. */
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

/**
 * The parts of the manifests these tests read and break. What k8s/ sets is required here (a pod has
 * a first container, a probe its check): a manifest without it fails the test that reads it.
 */
type NonEmpty<T> = [T, ...T[]];
interface TestProbe {
  httpGet: { path: string; port: number | string };
  exec: { command: string[] };
}
interface TestContainer {
  image: string;
  command: string[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
  securityContext: { allowPrivilegeEscalation?: boolean };
  resources: { limits?: Record<string, string> };
  readinessProbe: TestProbe;
  livenessProbe: TestProbe;
  startupProbe: TestProbe;
}
interface TestWorkloadSpec {
  template: {
    metadata: { labels: Record<string, string> };
    spec: {
      containers: NonEmpty<TestContainer>;
      initContainers: TestContainer[];
      securityContext: { runAsNonRoot?: boolean };
      volumes: { name: string; configMap?: unknown }[];
    };
  };
}
type WorkloadKind = 'Deployment' | 'StatefulSet' | 'Job';
type TestSpecs = Record<WorkloadKind, TestWorkloadSpec> & {
  Service: { selector: Record<string, string> };
  NetworkPolicy: { podSelector: { matchLabels?: Record<string, string> }; ingress: NonEmpty<{ from: unknown[] }> };
  ConfigMap: undefined;
  Namespace: undefined;
};
const find = <Kind extends keyof TestSpecs>(objects: K8sObject[], kind: Kind, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o as K8sObject & { spec: TestSpecs[Kind] };
};
const envVar = (container: TestContainer, name: string) => {
  const variable = container.env.find((e) => e.name === name);
  if (!variable) throw new Error(`no ${name} in the container`);
  return variable;
};

describe('compose.yaml', () => {
  it('is valid against the Compose Specification schema', () => {
    expect(validateComposeDocument(deployment.compose)).toEqual([]);
  });

  it('runs postgres, hapi, the HAPI preparation, the hub and one gateway per region', () => {
    expect(Object.keys(deployment.compose.services).sort()).toEqual(
      ['postgres', 'hapi', 'prepare-hapi', 'hub', ...deployment.topology.regions.map((r) => `gateway-${r.id}`)].sort(),
    );
  });

  it('starts in order: postgres healthy, hapi healthy, preparation done, hub healthy, then the gateways', () => {
    const s = deployment.compose.services;
    expect(s.hapi?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(s['prepare-hapi']?.depends_on).toEqual({ hapi: { condition: 'service_healthy' } });
    expect(s.hub?.depends_on).toEqual({ 'prepare-hapi': { condition: 'service_completed_successfully' } });
    for (const r of deployment.topology.regions) {
      expect(s[`gateway-${r.id}`]?.depends_on).toEqual({
        'prepare-hapi': { condition: 'service_completed_successfully' },
        hub: { condition: 'service_healthy' },
      });
    }
    expect(checkComposeStartOrder(deployment.compose)).toEqual([]);
  });

  it('lets the hub and each gateway wait for HAPI to be prepared themselves, as not every compose tool honours conditions', () => {
    const s = deployment.compose.services;
    const waits = (partition: string, main: string) => [
      'sh',
      '-c',
      `node infra/topology/scripts/prepare-hapi.ts --wait-only --partitions ${partition} http://hapi:8080/fhir && exec node ${main}`,
    ];
    expect(s.hub?.command).toEqual(waits('hub', 'services/national-hub/dist/main.mjs'));
    for (const r of deployment.topology.regions)
      expect(s[`gateway-${r.id}`]?.command).toEqual(waits(r.id, 'services/regional-gateway/dist/main.mjs'));
  });

  it('catches a wait for a service that has no health check, or a one-shot that restarts', () => {
    const broken = copy().compose;
    delete broken.services.postgres?.healthcheck;
    (broken.services['prepare-hapi'] as { restart?: string }).restart = 'on-failure';
    expect(checkComposeStartOrder(broken)).toEqual([
      'compose service hapi: waits for postgres to be healthy, which has no health check',
      'compose service hub: waits for prepare-hapi to complete, which restarts (on-failure)',
      'compose service gateway-north: waits for prepare-hapi to complete, which restarts (on-failure)',
      'compose service gateway-midlands: waits for prepare-hapi to complete, which restarts (on-failure)',
      'compose service gateway-south: waits for prepare-hapi to complete, which restarts (on-failure)',
    ]);
  });

  it('publishes only the hub and the gateways, on 127.0.0.1', () => {
    expect(checkPublishedPorts(deployment.compose)).toEqual([]);
    const published = Object.entries(deployment.compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => `${name} ${String(p)}`),
    );
    expect(published).toEqual([
      `hub 127.0.0.1:${deployment.topology.hub.port}:${deployment.topology.hub.port}`,
      ...deployment.topology.regions.map((r) => `gateway-${r.id} 127.0.0.1:${r.port}:${r.port}`),
    ]);
  });

  it('catches a published database and a port open on every interface', () => {
    const broken = copy().compose;
    (broken.services.postgres as { ports?: string[] }).ports = ['127.0.0.1:5432:5432'];
    (broken.services.hub as { ports?: string[] }).ports = ['4000:4000'];
    expect(checkPublishedPorts(broken)).toEqual([
      'compose service postgres: publishes ["127.0.0.1:5432:5432"]; only the hub and the gateways may',
      'compose service hub: port "4000:4000" is not bound to 127.0.0.1',
    ]);
  });

  it('runs every container without capabilities, new privileges or a writable root filesystem', () => {
    expect(checkComposeHardening(deployment.compose)).toEqual([]);
    const broken = copy().compose;
    (broken.services.hapi as { privileged?: boolean }).privileged = true;
    delete broken.services.hub?.cap_drop;
    expect(checkComposeHardening(broken)).toEqual([
      'compose service hapi: privileged',
      'compose service hub: does not drop all capabilities',
    ]);
  });

  it('makes the dev keys in the hub and shares them read-only with the gateways', () => {
    const s = deployment.compose.services;
    expect(s.hub?.environment).toMatchObject({ DEV_CREDENTIALS: 'true', IMAGING_DATA_DIR: '/data' });
    expect(s.hub?.volumes).toContain('credentials:/data/keys');
    for (const r of deployment.topology.regions)
      expect(s[`gateway-${r.id}`]?.volumes).toContain('credentials:/data/keys:ro');
    expect(deployment.compose.volumes).toHaveProperty('credentials');
  });
});

describe('Kubernetes manifests (kustomization.yaml and k8s/)', () => {
  it('lists every manifest of k8s/ in the kustomization', () => {
    const listed = new Set(deployment.kustomization.resources);
    const files = readdirSync(join(TOPOLOGY_DIR, 'k8s')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !listed.has(`k8s/${f}`))).toEqual([]);
  });

  it('are valid against the Kubernetes schemas, with no unknown field', () => {
    const problems = deployment.objects.flatMap((o) => validateK8sObject(o));
    expect(problems).toEqual([]);
    expect(deployment.objects.map(describeObject).sort()).toEqual(
      [
        'Namespace/imaging-connect',
        'ConfigMap/imaging-topology',
        'NetworkPolicy/default-deny-ingress',
        'NetworkPolicy/allow-api',
        'NetworkPolicy/allow-hapi-from-services',
        'NetworkPolicy/allow-postgres-from-hapi',
        'Service/postgres',
        'StatefulSet/postgres',
        'Service/hapi',
        'Deployment/hapi',
        'Job/prepare-hapi',
        'Service/hub',
        'Deployment/hub',
        ...deployment.topology.regions.flatMap((r) => [`Service/gateway-${r.id}`, `Deployment/gateway-${r.id}`]),
      ].sort(),
    );
  });

  it.skipIf(!hasKubectl)(
    'build with kubectl kustomize into the same objects, all valid, the ConfigMap name hashed everywhere',
    () => {
      const built = parseYamlDocuments(
        execFileSync('kubectl', ['kustomize', TOPOLOGY_DIR], { encoding: 'utf8' }),
        'kubectl kustomize',
      ) as K8sObject[];
      expect(built.flatMap((o) => validateK8sObject(o))).toEqual([]);
      const configMap = built.find((o) => o.kind === 'ConfigMap');
      const hashed = configMap?.metadata.name ?? '';
      expect(hashed).toMatch(/^imaging-topology-[a-z0-9]{10}$/);
      const names = (objects: K8sObject[]) =>
        objects.map((o) => describeObject(o).replace(hashed, 'imaging-topology')).sort();
      expect(names(built)).toEqual(names(deployment.objects));
      const hub = find(built, 'Deployment', 'hub');
      expect(JSON.stringify(hub.spec.template.spec.volumes)).toContain(`"name":"${hashed}"`);
    },
  );

  it('put everything in the imaging-connect namespace', () => {
    expect(
      deployment.objects
        .filter((o) => o.kind !== 'Namespace' && o.metadata.namespace !== 'imaging-connect')
        .map(describeObject),
    ).toEqual([]);
    // Also as written, so each file can be applied without kustomize.
    for (const file of (deployment.kustomization.resources ?? []).filter((f) => f !== 'k8s/namespace.yaml')) {
      expect(readFileSync(join(TOPOLOGY_DIR, file), 'utf8')).toContain('namespace: imaging-connect');
    }
  });

  it('carry the topology in a ConfigMap made from topology.json, mounted by the hub', () => {
    const configMap = find(deployment.objects, 'ConfigMap', 'imaging-topology') as unknown as {
      data: Record<string, string>;
    };
    expect(JSON.parse(configMap.data['topology.json'] as string)).toEqual(deployment.topology);
    const hub = find(deployment.objects, 'Deployment', 'hub');
    expect(hub.spec.template.spec.volumes).toContainEqual({
      name: 'topology',
      configMap: {
        name: 'imaging-topology',
        optional: false,
        items: [{ key: 'topology.json', path: 'topology.json' }],
      },
    });
  });

  it('hold every pod to the restricted Pod Security Standard, with resources', () => {
    expect(checkPodSecurity(deployment.objects)).toEqual([]);
    const ns = find(deployment.objects, 'Namespace', 'imaging-connect');
    expect(ns.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
  });

  it('catch a root pod, an escalating container and a missing memory limit', () => {
    const broken = copy().objects;
    const hub = find(broken, 'Deployment', 'hub');
    delete hub.spec.template.spec.securityContext.runAsNonRoot;
    hub.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    delete hub.spec.template.spec.containers[0].resources.limits;
    expect(checkPodSecurity(broken)).toEqual([
      'Deployment/hub: runAsNonRoot is not set',
      'Deployment/hub container hub: allowPrivilegeEscalation is not false',
      'Deployment/hub container hub: no memory limit',
    ]);
  });

  it('probe /health on the hub and the gateways, /fhir/metadata on HAPI, pg_isready on PostgreSQL', () => {
    expect(checkProbes(deployment.objects)).toEqual([]);
    const hapi = find(deployment.objects, 'Deployment', 'hapi').spec.template.spec.containers[0];
    expect(hapi.startupProbe.httpGet).toEqual({ path: '/fhir/metadata', port: 8080 });
    const postgres = find(deployment.objects, 'StatefulSet', 'postgres').spec.template.spec.containers[0];
    expect(postgres.readinessProbe.exec.command[0]).toBe('pg_isready');
  });

  it('catch a probe on the wrong path or on a port the container does not have', () => {
    const broken = copy().objects;
    const gateway = find(broken, 'Deployment', 'gateway-south').spec.template.spec.containers[0];
    gateway.readinessProbe.httpGet.path = '/fhir/metadata';
    gateway.livenessProbe.httpGet.port = 'https';
    expect(checkProbes(broken)).toEqual([
      'Deployment/gateway-south container gateway: readinessProbe is not GET /health',
      'Deployment/gateway-south container gateway: livenessProbe port https is not a port of the container',
    ]);
  });

  it('wait for HAPI to be prepared before a service starts, and prepare it in a Job', () => {
    for (const name of ['hub', ...deployment.topology.regions.map((r) => `gateway-${r.id}`)]) {
      const init = find(deployment.objects, 'Deployment', name).spec.template.spec.initContainers;
      expect(init.map((c) => c.command.slice(0, 3))).toEqual([
        ['node', 'infra/topology/scripts/prepare-hapi.ts', '--wait-only'],
      ]);
    }
    const job = find(deployment.objects, 'Job', 'prepare-hapi').spec.template.spec.containers[0];
    expect(job.command).not.toContain('--wait-only');
  });

  it('let only the services reach HAPI, and only HAPI reach PostgreSQL', () => {
    const labels = (kind: WorkloadKind, name: string) =>
      find(deployment.objects, kind, name).spec.template.metadata.labels as Record<string, string>;
    const hapiClients = deployment.objects
      .filter((o) => {
        const spec = o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined;
        return spec?.template?.metadata?.labels?.['imaging-connect/hapi-client'] === 'true';
      })
      .map(describeObject);
    expect(hapiClients.sort()).toEqual(
      [
        'Deployment/hub',
        'Job/prepare-hapi',
        ...deployment.topology.regions.map((r) => `Deployment/gateway-${r.id}`),
      ].sort(),
    );
    const toHapi = find(deployment.objects, 'NetworkPolicy', 'allow-hapi-from-services').spec;
    expect(toHapi.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/instance': labels('Deployment', 'hapi')['app.kubernetes.io/instance'],
    });
    const toPostgres = find(deployment.objects, 'NetworkPolicy', 'allow-postgres-from-hapi').spec;
    expect(toPostgres.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'hapi' } } },
    ]);
    expect(find(deployment.objects, 'NetworkPolicy', 'default-deny-ingress').spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress'],
    });
  });
});

describe('compose and Kubernetes agree with the services and the topology', () => {
  const containers = allContainers(deployment);

  it('find the hub, the gateways, HAPI, PostgreSQL and the preparation in both', () => {
    const roles = (source: Container['source']) =>
      containers
        .filter((c) => c.source === source)
        .map((c) => c.role)
        .sort();
    const regions = deployment.topology.regions.length;
    const gateways = deployment.topology.regions.map(() => 'gateway');
    expect(roles('compose')).toEqual([...gateways, 'hapi', 'hub', 'postgres', 'prepare-hapi'].sort());
    // Kubernetes adds one wait-only init container per service, and one waiting for PostgreSQL in HAPI's pod.
    expect(roles('kubernetes')).toEqual(
      [...gateways, 'hapi', 'hub', 'postgres', 'postgres', ...Array(1 + 1 + regions).fill('prepare-hapi')].sort(),
    );
  });

  it('set only variables the services read, with values their schemas accept', () => {
    expect(checkServiceEnvironment(containers, schemas)).toEqual([]);
    expect(containers.filter((c) => c.role === 'hub' || c.role === 'gateway').length).toBeGreaterThanOrEqual(
      2 * (1 + deployment.topology.regions.length),
    );
  });

  it('catch a misspelt variable and a value the schema refuses', () => {
    const broken = copy();
    const env = broken.compose.services['gateway-north']?.environment as Record<string, string>;
    env.GATEWAY_STORAGE = env.GATEWAY_STORE as string;
    env.DELIVERY_INTERVAL = 'soon';
    const problems = checkServiceEnvironment(composeContainers(broken.compose), schemas);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^compose service gateway-north: GATEWAY_STORAGE is not a gateway variable/);
    expect(problems[1]).toMatch(/^compose service gateway-north: DELIVERY_INTERVAL: /);
  });

  it('run the images build-images.sh makes', () => {
    const expected = expectedImages();
    expect(checkImages(containers, expected)).toEqual([]);
    const script = readFileSync(join(REPO_DIR, 'infra/podman/build-images.sh'), 'utf8');
    expect(script).toContain('localhost/imaging-connect/services:$version');
    expect(script).toContain('localhost/imaging-connect/postgresql:15');
    expect(script).toContain('localhost/imaging-connect/hapi-fhir:$version');
  });

  it('catch an image that is not ours or not the built version', () => {
    const broken = copy();
    const hub = find(broken.objects, 'Deployment', 'hub');
    hub.spec.template.spec.containers[0].image = 'localhost/imaging-connect/services:0.0.9';
    (broken.compose.services.postgres as { image: string }).image = 'localhost/imaging-connect/postgresql:16';
    expect(checkImages(allContainers(broken), expectedImages())).toEqual([
      `compose service postgres: image 'localhost/imaging-connect/postgresql:16', expected 'localhost/imaging-connect/postgresql:15'`,
      `Deployment/hub container hub: image 'localhost/imaging-connect/services:0.0.9', expected '${expectedImages().services}'`,
    ]);
  });

  it('put each service at the host name and port of its topology URL, storing in its own HAPI partition', () => {
    expect(checkTopologyAgreement(deployment)).toEqual([]);
  });

  it('catch a gateway on the wrong port, another partition, and a Service that selects nothing', () => {
    const broken = copy();
    const env = broken.compose.services['gateway-midlands']?.environment as Record<string, string>;
    env.PORT = '4109';
    const northEnv = broken.compose.services['gateway-north']?.environment as Record<string, string>;
    northEnv.PUBLIC_URL = 'http://gateway-north:4101';
    delete northEnv.HUB_PUBLIC_URL;
    const south = find(broken.objects, 'Deployment', 'gateway-south').spec.template.spec.containers[0];
    envVar(south, 'GATEWAY_STORE').value = 'http://hapi:8080/fhir/north';
    find(broken.objects, 'Service', 'hub').spec.selector = { 'app.kubernetes.io/instance': 'national-hub' };
    expect(checkTopologyAgreement(broken)).toEqual([
      'compose service gateway-north: PUBLIC_URL http://gateway-north:4101, topology says http://127.0.0.1:4101',
      'compose service gateway-north: HUB_PUBLIC_URL http://hub:4000, topology says http://127.0.0.1:4000',
      'compose service gateway-midlands: PORT 4109, topology says 4102',
      'Service/hub: its selector does not select Deployment/hub container hub',
      'Deployment/gateway-south container gateway: stores in http://hapi:8080/fhir/north, not HAPI partition south',
    ]);
  });

  it('catch HAPI told to deliver rest-hook subscriptions, in either deployment', () => {
    const broken = copy();
    const env = broken.compose.services.hapi?.environment as Record<string, string>;
    env.HAPI_SUBSCRIPTIONS = 'true';
    const hapi = find(broken.objects, 'Deployment', 'hapi').spec.template.spec.containers[0];
    hapi.env.push({ name: 'HAPI_SUBSCRIPTIONS', value: 'On' });
    expect(checkTopologyAgreement(broken)).toEqual([
      'compose service hapi: HAPI_SUBSCRIPTIONS=true lets whoever writes a Subscription make HAPI call a URL of its choosing; nothing in the pathway subscribes',
      'Deployment/hapi container hapi: HAPI_SUBSCRIPTIONS=on lets whoever writes a Subscription make HAPI call a URL of its choosing; nothing in the pathway subscribes',
    ]);
    env.HAPI_SUBSCRIPTIONS = 'false';
    hapi.env.pop();
    expect(checkTopologyAgreement(broken)).toEqual([]);
  });

  it('write no secret: passwords and page-token secrets come from Secrets or mounted secret files', () => {
    expect(checkNoPlaintextSecrets(containers, deployment.objects, deployment.compose)).toEqual([]);
    const secretEnv = containers.flatMap((c) =>
      [...c.env]
        .filter(([name]) => /PASSWORD|SECRET/.test(name))
        .map(([name, v]) => `${c.source} ${name} ${JSON.stringify(v)}`),
    );
    expect(secretEnv).toContain('compose POSTGRES_PASSWORD_FILE {"value":"/run/secrets/db-password"}');
    expect(secretEnv).toContain('compose HAPI_DB_PASSWORD_FILE {"value":"/run/secrets/db-password"}');
    expect(deployment.compose.secrets).toEqual({ 'db-password': { file: './.secrets/db-password' } });
    expect(secretEnv).toContain('kubernetes PAGE_TOKEN_SECRET_FILE {"value":"/run/secrets/page-token/hub"}');
    expect(secretEnv).toContain('kubernetes POSTGRES_PASSWORD_FILE {"value":"/run/secrets/db/password"}');
    expect(secretEnv).toContain('kubernetes HAPI_DB_PASSWORD_FILE {"value":"/run/secrets/db/password"}');
    expect(secretEnv.filter((e) => e.includes('"secret"'))).toEqual([]);
  });

  it('catch a password written in a manifest or passed as a variable, a file that is not a mounted secret, and a committed Secret', () => {
    const broken = copy();
    const hapiEnv = broken.compose.services.hapi?.environment as Record<string, string>;
    delete hapiEnv.HAPI_DB_PASSWORD_FILE;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: compose variable syntax, not a template
    hapiEnv.HAPI_DB_PASSWORD = '${POSTGRES_PASSWORD:?required}';
    (broken.compose.services.postgres?.environment as Record<string, string>).POSTGRES_PASSWORD_FILE =
      '/run/secrets/other';
    broken.compose.secrets = { 'db-password': { file: '/etc/db-password' } };
    const postgres = find(broken.objects, 'StatefulSet', 'postgres').spec.template.spec.containers[0];
    postgres.env.push({ name: 'POSTGRES_PASSWORD', value: 'changeme-please' });
    const hapi = find(broken.objects, 'Deployment', 'hapi').spec.template.spec.containers[0];
    hapi.env.push({ name: 'HAPI_DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'imaging-db', key: 'password' } } });
    broken.objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'imaging-db' },
      data: { password: 'Y2hhbmdlbWU=' },
    });
    expect(
      checkNoPlaintextSecrets(
        [...composeContainers(broken.compose), ...kubernetesContainers(broken.objects)],
        broken.objects,
        broken.compose,
      ),
    ).toEqual([
      "compose service postgres: POSTGRES_PASSWORD_FILE names /run/secrets/other, not one of the service's secrets",
      'compose service hapi: HAPI_DB_PASSWORD must be HAPI_DB_PASSWORD_FILE naming a mounted secret, not a value',
      'StatefulSet/postgres container postgres: POSTGRES_PASSWORD must be POSTGRES_PASSWORD_FILE naming a file of a mounted Secret, not a value',
      'Deployment/hapi container hapi: HAPI_DB_PASSWORD must be HAPI_DB_PASSWORD_FILE naming a file of a mounted Secret, not a value',
      'compose secret db-password: not a file in .secrets/ (made at run time, git-ignored)',
      'Secret/imaging-db: a Secret in the manifests; scripts/k8s-secrets.ts makes them at deployment',
    ]);
  });

  it('commit no key material or password in any file of the topology or the images', () => {
    const files = [
      'compose.yaml',
      'kustomization.yaml',
      'topology.json',
      'README.md',
      ...readdirSync(join(TOPOLOGY_DIR, 'k8s')).map((f) => `k8s/${f}`),
      ...readdirSync(join(TOPOLOGY_DIR, 'postgres')).map((f) => `postgres/${f}`),
      ...readdirSync(join(TOPOLOGY_DIR, 'scripts'))
        .filter((f) => !f.endsWith('.test.ts'))
        .map((f) => `scripts/${f}`),
      ...readdirSync(join(TOPOLOGY_DIR, '..', 'services-image')).map((f) => `../services-image/${f}`),
    ];
    expect(
      findKeyMaterial(files.map((path) => ({ path, text: readFileSync(join(TOPOLOGY_DIR, path), 'utf8') }))),
    ).toEqual([]);
    expect(
      findKeyMaterial([
        { path: 'a.yaml', text: `key: |\n  -----BEGIN ${'EC PRIVATE'} KEY-----\n` }, // built here, so no tracked file holds the marker
        { path: 'b.json', text: '{"kty":"EC","d":"Zm9vYmFyYmF6cXV4cXV1eGNvcmdl"}' },
        { path: 'c.env', text: 'password=hunter2hunter2' },
      ]),
    ).toEqual([
      'a.yaml: contains a PEM private key',
      'b.json: contains a private JWK',
      'c.env: contains a password or secret value',
    ]);
  });
});
