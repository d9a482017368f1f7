import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';
import type { K8sObject } from './kubernetes-schema.ts';
import { describeObject, isK8sObject } from './kubernetes-schema.ts';
import { parseYaml, parseYamlDocuments } from './yaml.ts';

/**
 * The production topology as files (compose.yaml, kustomization.yaml and k8s/, topology.json),
 * loaded into one model, and the project's own rules about it. Each check returns its problems
 * (empty when all is well), so a test can show it catches a broken copy.
 */

export const TOPOLOGY_DIR = resolve(import.meta.dirname, '..');
export const REPO_DIR = resolve(TOPOLOGY_DIR, '..', '..');

export interface ComposeService {
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | Record<string, unknown>)[];
  volumes?: (string | Record<string, unknown>)[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
  privileged?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  read_only?: boolean;
  [key: string]: unknown;
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Kustomization {
  apiVersion: string;
  kind: string;
  namespace?: string;
  resources?: string[];
  configMapGenerator?: { name: string; files?: string[]; options?: { labels?: Record<string, string> } }[];
}

export interface Deployment {
  dir: string;
  topology: Topology;
  /** compose.yaml as compose tools read it (merge keys resolved), before interpolation. */
  compose: ComposeFile;
  kustomization: Kustomization;
  /** What `kubectl kustomize` builds, less the hash suffix of generated ConfigMaps. */
  objects: K8sObject[];
}

const KUSTOMIZATION_FIELDS = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'configMapGenerator']);

export function loadDeployment(dir: string = TOPOLOGY_DIR): Deployment {
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const topology = parseTopology(JSON.parse(read('topology.json')), 'topology.json');
  const compose = parseYaml(read('compose.yaml'), 'compose.yaml') as ComposeFile;
  const kustomization = parseYaml(read('kustomization.yaml'), 'kustomization.yaml') as Kustomization;
  return { dir, topology, compose, kustomization, objects: buildKustomization(dir, kustomization) };
}

/**
 * The subset of kustomize this deployment uses: resources, a namespace, ConfigMaps generated from
 * files. Anything else in kustomization.yaml is refused, so this never silently builds less than kubectl.
 */
export function buildKustomization(dir: string, kustomization: Kustomization): K8sObject[] {
  const unsupported = Object.keys(kustomization).filter((k) => !KUSTOMIZATION_FIELDS.has(k));
  if (unsupported.length)
    throw new Error(
      `kustomization.yaml: ${unsupported.join(', ')} not understood by this check: extend buildKustomization`,
    );
  if (kustomization.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || kustomization.kind !== 'Kustomization') {
    throw new Error('kustomization.yaml: not a kustomize.config.k8s.io/v1beta1 Kustomization');
  }
  const objects: K8sObject[] = [];
  for (const file of kustomization.resources ?? []) {
    for (const [i, doc] of parseYamlDocuments(readFileSync(join(dir, file), 'utf8'), file).entries()) {
      if (!isK8sObject(doc)) throw new Error(`${file}: document ${i + 1} is not a Kubernetes object`);
      objects.push(doc);
    }
  }
  for (const generator of kustomization.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const entry of generator.files ?? []) {
      const [key, path] = entry.includes('=') ? (entry.split('=', 2) as [string, string]) : [basename(entry), entry];
      data[key] = readFileSync(join(dir, path), 'utf8');
    }
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: generator.name, ...(generator.options?.labels ? { labels: generator.options.labels } : {}) },
      data,
    });
  }
  if (kustomization.namespace) {
    for (const o of objects)
      if (o.kind !== 'Namespace') o.metadata = { ...o.metadata, namespace: kustomization.namespace };
  }
  return objects;
}

// ------------------------------------------------------------------ containers, wherever they are

export type EnvValue =
  | { value: string }
  | { secret: string }
  | { interpolated: string; required: boolean }
  | { other: string };

export type Role = 'hub' | 'gateway' | 'prepare-hapi' | 'hapi' | 'postgres' | 'unknown';

export interface Container {
  /** e.g. `compose service hub`, `Deployment/hub container hub`. */
  where: string;
  source: 'compose' | 'kubernetes';
  /** The compose service or the Kubernetes workload. */
  owner: string;
  role: Role;
  image: string;
  command: string[];
  env: Map<string, EnvValue>;
}

const HUB_MAIN = 'services/national-hub/dist/main.mjs';
const GATEWAY_MAIN = 'services/regional-gateway/dist/main.mjs';
const PREPARE = 'infra/topology/scripts/prepare-hapi.ts';

/**
 * What a container runs, from its command (`node <main>`, or a `sh -c` line that ends by exec-ing
 * it) or, for the third-party servers, its image.
 */
export function roleOf(image: string, command: string[]): Role {
  const words = command.flatMap((c) => c.split(/\s+/));
  if (words.includes(HUB_MAIN)) return 'hub';
  if (words.includes(GATEWAY_MAIN)) return 'gateway';
  if (words.includes(PREPARE)) return 'prepare-hapi';
  if (/\/hapi-fhir:/.test(image)) return 'hapi';
  if (/\/postgresql:/.test(image)) return 'postgres';
  return 'unknown';
}

/** `${VAR}`, `${VAR:-default}`, `${VAR:?message}`: which variable, and whether compose requires it. */
const INTERPOLATION = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?\?)[^}]*|:?-[^}]*)?\}$/;

function composeEnvValue(raw: string): EnvValue {
  const m = INTERPOLATION.exec(raw);
  if (m) return { interpolated: m[1] as string, required: m[2] !== undefined };
  if (raw.includes('$')) return { other: raw };
  return { value: raw };
}

export function composeContainers(compose: ComposeFile): Container[] {
  return Object.entries(compose.services).map(([name, service]) => {
    const env = new Map<string, EnvValue>();
    const environment = service.environment ?? {};
    const pairs: [string, string][] = Array.isArray(environment)
      ? environment.map((e) => {
          const i = e.indexOf('=');
          return i < 0 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
        })
      : Object.entries(environment).map(([k, v]) => [k, v === null ? '' : String(v)]);
    for (const [k, v] of pairs) env.set(k, composeEnvValue(v));
    const command = typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);
    const image = service.image ?? '';
    return {
      where: `compose service ${name}`,
      source: 'compose',
      owner: name,
      role: roleOf(image, command),
      image,
      command,
      env,
    };
  });
}

interface PodContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string }; [k: string]: unknown };
  }[];
  ports?: { name?: string; containerPort: number }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface Probe {
  httpGet?: { path?: string; port: number | string };
  exec?: { command?: string[] };
  tcpSocket?: { port: number | string };
}

export interface PodSpec {
  containers: PodContainer[];
  initContainers?: PodContainer[];
  automountServiceAccountToken?: boolean;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    fsGroup?: number;
    seccompProfile?: { type: string };
  };
  volumes?: {
    name: string;
    secret?: { secretName: string; optional?: boolean; items?: { key: string; path: string }[] };
    projected?: {
      sources: { secret?: { name: string; items?: { key: string; path: string }[] }; configMap?: { name: string } }[];
    };
    configMap?: { name: string; optional?: boolean; items?: { key: string; path: string }[] };
    emptyDir?: Record<string, unknown>;
    persistentVolumeClaim?: { claimName: string };
  }[];
  restartPolicy?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
}

/** The pod template of a workload, or the pod itself. */
export function podSpecOf(object: K8sObject): PodSpec | undefined {
  const spec = object.spec as { template?: { spec?: PodSpec }; containers?: unknown } | undefined;
  if (object.kind === 'Pod') return object.spec as PodSpec;
  return spec?.template?.spec;
}

export function workloads(objects: K8sObject[]): { object: K8sObject; pod: PodSpec }[] {
  return objects.flatMap((object) => {
    const pod = podSpecOf(object);
    return pod ? [{ object, pod }] : [];
  });
}

export function podContainers(pod: PodSpec): PodContainer[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

export function kubernetesContainers(objects: K8sObject[]): Container[] {
  return workloads(objects).flatMap(({ object, pod }) =>
    podContainers(pod).map((c) => {
      const env = new Map<string, EnvValue>();
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        env.set(
          e.name,
          e.value !== undefined
            ? { value: e.value }
            : ref
              ? { secret: `${ref.name}/${ref.key}` }
              : { other: JSON.stringify(e.valueFrom ?? null) },
        );
      }
      const command = [...(c.command ?? []), ...(c.args ?? [])];
      const image = c.image ?? '';
      const isInit = (pod.initContainers ?? []).includes(c);
      return {
        where: `${describeObject(object)} ${isInit ? 'init container' : 'container'} ${c.name}`,
        source: 'kubernetes' as const,
        owner: object.metadata.name,
        role: roleOf(image, command),
        image,
        command,
        env,
      };
    }),
  );
}

export function allContainers(deployment: Deployment): Container[] {
  return [...composeContainers(deployment.compose), ...kubernetesContainers(deployment.objects)];
}

// ------------------------------------------------------------------ the services' environment

export interface EnvSchemas {
  hub: {
    shape: Record<string, unknown>;
    safeParse: (env: Record<string, string>) => {
      success: boolean;
      error?: { issues: { path: PropertyKey[]; message: string }[] };
    };
  };
  gateway: EnvSchemas['hub'];
}

/** A stand-in for a value only known at run time (a Secret, an interpolated variable). */
const RUN_TIME_PLACEHOLDER = 'run-time-value-0123456789abcdef';

/**
 * Every variable a hub or gateway container sets is one its zod schema reads (a misspelt name would
 * be ignored and its default used), and the environment as set passes the schema.
 */
export function checkServiceEnvironment(containers: Container[], schemas: EnvSchemas): string[] {
  const problems: string[] = [];
  for (const c of containers) {
    if (c.role !== 'hub' && c.role !== 'gateway') continue;
    const schema = c.role === 'hub' ? schemas.hub : schemas.gateway;
    const known = new Set(Object.keys(schema.shape));
    const env: Record<string, string> = {};
    for (const [name, value] of c.env) {
      // X_FILE names a file holding X (@imaging/config reads it at start): check X, with a stand-in.
      const fromFile = name.endsWith('_FILE') && known.has(name.slice(0, -'_FILE'.length));
      if (!known.has(name) && !fromFile)
        problems.push(`${c.where}: ${name} is not a ${c.role} variable (known: ${[...known].join(', ')})`);
      if (fromFile) env[name.slice(0, -'_FILE'.length)] = RUN_TIME_PLACEHOLDER;
      else env[name] = 'value' in value ? value.value : RUN_TIME_PLACEHOLDER;
    }
    const parsed = schema.safeParse(env);
    if (!parsed.success) {
      for (const issue of parsed.error?.issues ?? [])
        problems.push(`${c.where}: ${issue.path.map(String).join('.')}: ${issue.message}`);
    }
  }
  return problems;
}

// ------------------------------------------------------------------ images

export interface ExpectedImages {
  services: string;
  hapi: string;
  postgres: string;
}

/** The images build-images.sh makes: their tags come from the same version sources. */
export function expectedImages(repo: string = REPO_DIR): ExpectedImages {
  const hub = JSON.parse(readFileSync(join(repo, 'services/national-hub/package.json'), 'utf8')) as { version: string };
  const pom = readFileSync(join(repo, 'infra/hapi-fhir/pom.xml'), 'utf8');
  const hapiVersion = /^ {2}<version>(.*)<\/version>$/m.exec(pom)?.[1];
  if (!hapiVersion) throw new Error('infra/hapi-fhir/pom.xml: no project version');
  return {
    services: `localhost/imaging-connect/services:${hub.version}`,
    hapi: `localhost/imaging-connect/hapi-fhir:${hapiVersion}`,
    postgres: 'localhost/imaging-connect/postgresql:15',
  };
}

export function checkImages(containers: Container[], expected: ExpectedImages): string[] {
  const byRole: Record<Role, string | undefined> = {
    hub: expected.services,
    gateway: expected.services,
    'prepare-hapi': expected.services,
    hapi: expected.hapi,
    postgres: expected.postgres,
    unknown: undefined,
  };
  return containers.flatMap((c) => {
    const want = byRole[c.role];
    if (!want)
      return [
        `${c.where}: runs neither a service nor HAPI nor PostgreSQL (image '${c.image}', command ${JSON.stringify(c.command)})`,
      ];
    return c.image === want ? [] : [`${c.where}: image '${c.image}', expected '${want}'`];
  });
}

// ------------------------------------------------------------------ topology agreement

const envValue = (c: Container | undefined, name: string): string | undefined => {
  const v = c?.env.get(name);
  return v && 'value' in v ? v.value : undefined;
};

function urlParts(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
}

/** Partitions named by `--partitions a,b` in a command. */
function partitionsOf(command: string[]): string[] {
  const i = command.indexOf('--partitions');
  return i < 0 ? [] : (command[i + 1] ?? '').split(',').filter(Boolean);
}

/**
 * Each service is where the topology says: the hub and each gateway are reachable under the host
 * name and port of their topology URL (compose service / Kubernetes Service), call themselves by
 * that URL, store in their own HAPI partition, and HAPI and its preparation know every partition.
 */
export function checkTopologyAgreement(
  deployment: Deployment,
  containers: Container[] = allContainers(deployment),
): string[] {
  const problems: string[] = [];
  const { topology } = deployment;
  const trim = (url: string) => url.replace(/\/+$/, '');
  const hubUrl = trim(topology.hub.url);
  const hubPublicUrl = trim(topology.hub.publicUrl ?? topology.hub.url);
  const partitions = ['hub', ...topology.regions.map((r) => r.id)];
  const expectations = [
    {
      role: 'hub' as const,
      url: hubUrl,
      publicUrl: hubPublicUrl,
      port: topology.hub.port,
      partition: 'hub',
      region: undefined as string | undefined,
    },
    ...topology.regions.map((r) => ({
      role: 'gateway' as const,
      url: trim(r.url),
      publicUrl: trim(r.publicUrl ?? r.url),
      port: r.port,
      partition: r.id,
      region: r.id,
    })),
  ];
  // A gateway asks the hub for tokens as the client `gateway-<region>`, with that client's key.
  for (const r of topology.regions)
    if (!topology.clients.some((c) => c.id === `gateway-${r.id}` && c.kind === 'gateway' && c.region === r.id))
      problems.push(`topology.json: region ${r.id} has no client gateway-${r.id} (kind gateway, region ${r.id})`);
  for (const source of ['compose', 'kubernetes'] as const) {
    const mine = containers.filter((c) => c.source === source);
    for (const e of expectations) {
      const { host, port } = urlParts(e.url);
      const matching = mine.filter(
        (c) => c.role === e.role && (e.region === undefined || envValue(c, 'REGION_ID') === e.region),
      );
      const label = e.region ? `gateway ${e.region}` : 'hub';
      if (matching.length !== 1) {
        problems.push(`${source}: ${matching.length} containers run the ${label}, expected 1`);
        continue;
      }
      const c = matching[0] as Container;
      if (port !== e.port) problems.push(`topology.json: ${label} URL ${e.url} is not on its port ${e.port}`);
      if (envValue(c, 'PORT') !== String(e.port))
        problems.push(`${c.where}: PORT ${envValue(c, 'PORT')}, topology says ${e.port}`);
      // The links a client receives name the service where the client reaches it.
      if (envValue(c, 'PUBLIC_URL') !== e.publicUrl)
        problems.push(`${c.where}: PUBLIC_URL ${envValue(c, 'PUBLIC_URL')}, topology says ${e.publicUrl}`);
      if (envValue(c, 'HOST') !== '0.0.0.0') problems.push(`${c.where}: HOST must be 0.0.0.0 inside the container`);
      const store = envValue(c, e.role === 'hub' ? 'HUB_STORE' : 'GATEWAY_STORE');
      if (!store?.endsWith(`/fhir/${e.partition}`))
        problems.push(`${c.where}: stores in ${store}, not HAPI partition ${e.partition}`);
      if (e.role === 'gateway' && envValue(c, 'HUB_URL') !== hubUrl)
        problems.push(`${c.where}: HUB_URL ${envValue(c, 'HUB_URL')}, topology says ${hubUrl}`);
      // The issuer the gateway expects is the hub's public URL, which names itself so in its tokens.
      const hubIssuer = envValue(c, 'HUB_PUBLIC_URL') ?? envValue(c, 'HUB_URL');
      if (e.role === 'gateway' && hubIssuer !== hubPublicUrl)
        problems.push(`${c.where}: HUB_PUBLIC_URL ${hubIssuer}, topology says ${hubPublicUrl}`);
      if (source === 'compose' && c.owner !== host)
        problems.push(`${c.where}: the topology reaches it as '${host}', the compose service is '${c.owner}'`);
      if (source === 'kubernetes') problems.push(...checkKubernetesService(deployment.objects, c, host, port));
    }
    // A gateway for a region the topology lacks is one the hub neither seeds nor routes to.
    for (const c of mine.filter((x) => x.role === 'gateway'))
      if (!topology.regions.some((r) => r.id === envValue(c, 'REGION_ID')))
        problems.push(`${c.where}: REGION_ID ${envValue(c, 'REGION_ID')} is no region of topology.json`);
    for (const hapi of mine.filter((c) => c.role === 'hapi')) {
      const have = (envValue(hapi, 'HAPI_PARTITIONS') ?? '').split(',');
      const missing = partitions.filter((p) => !have.includes(p));
      if (missing.length) problems.push(`${hapi.where}: HAPI_PARTITIONS lacks ${missing.join(', ')}`);
      // Nothing in the pathway subscribes (the gateways poll), and a rest-hook Subscription calls any URL.
      const subscriptions = envValue(hapi, 'HAPI_SUBSCRIPTIONS')?.toLowerCase();
      if (subscriptions && ['true', '1', 'yes', 'on'].includes(subscriptions))
        problems.push(
          `${hapi.where}: HAPI_SUBSCRIPTIONS=${subscriptions} lets whoever writes a Subscription make HAPI call a URL of its choosing; nothing in the pathway subscribes`,
        );
    }
    const prepare = mine.filter((c) => c.role === 'prepare-hapi' && !c.command.includes('--wait-only'));
    if (prepare.length !== 1) problems.push(`${source}: ${prepare.length} containers prepare HAPI, expected 1`);
    for (const p of prepare) {
      const missing = partitions.filter((x) => !partitionsOf(p.command).includes(x));
      if (missing.length) problems.push(`${p.where}: --partitions lacks ${missing.join(', ')}`);
    }
  }
  return problems;
}

function checkKubernetesService(objects: K8sObject[], c: Container, host: string, port: number): string[] {
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === host);
  if (!service) return [`${c.where}: no Service '${host}' for the topology URL`];
  const spec = service.spec as {
    selector?: Record<string, string>;
    ports?: { port: number; targetPort?: number | string }[];
  };
  const workload = objects.find((o) => o.metadata.name === c.owner && podSpecOf(o));
  const labels =
    (workload?.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template
      ?.metadata?.labels ?? {};
  const problems: string[] = [];
  const selector = Object.entries(spec.selector ?? {});
  if (selector.length === 0 || !selector.every(([k, v]) => labels[k] === v))
    problems.push(`Service/${host}: its selector does not select ${c.where}`);
  const servicePort = spec.ports?.find((p) => p.port === port);
  if (!servicePort) return [...problems, `Service/${host}: no port ${port}`];
  const pod = workload ? podSpecOf(workload) : undefined;
  const container = pod?.containers.find((x) => c.where.endsWith(`container ${x.name}`));
  const target = servicePort.targetPort ?? port;
  const containerPort = container?.ports?.find((p) =>
    typeof target === 'string' ? p.name === target : p.containerPort === target,
  );
  if (!containerPort) problems.push(`Service/${host}: targetPort ${target} is no port of ${c.where}`);
  else if (String(containerPort.containerPort) !== envValue(c, 'PORT'))
    problems.push(
      `${c.where}: listens on PORT ${envValue(c, 'PORT')}, its port ${target} is ${containerPort.containerPort}`,
    );
  return problems;
}

// ------------------------------------------------------------------ compose rules

/** Only the hub and the gateways are published, and only on 127.0.0.1. */
export function checkPublishedPorts(
  compose: ComposeFile,
  containers: Container[] = composeContainers(compose),
): string[] {
  const problems: string[] = [];
  for (const c of containers) {
    const ports = compose.services[c.owner]?.ports ?? [];
    if (ports.length && c.role !== 'hub' && c.role !== 'gateway')
      problems.push(`${c.where}: publishes ${JSON.stringify(ports)}; only the hub and the gateways may`);
    for (const p of ports) {
      const hostIp =
        typeof p === 'object' ? p.host_ip : String(p).split(':').length === 3 ? String(p).split(':')[0] : undefined;
      if (hostIp !== '127.0.0.1') problems.push(`${c.where}: port ${JSON.stringify(p)} is not bound to 127.0.0.1`);
    }
  }
  return problems;
}

/** Start-up order: every dependency exists, health conditions have a health check, the one-shot runs once. */
export function checkComposeStartOrder(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of Object.entries(compose.services)) {
    const deps = service.depends_on ?? {};
    const entries: [string, string][] = Array.isArray(deps)
      ? deps.map((d) => [d, 'service_started'])
      : Object.entries(deps).map(([d, v]) => [d, v.condition]);
    for (const [dep, condition] of entries) {
      const target = compose.services[dep];
      if (!target) problems.push(`compose service ${name}: depends on unknown service ${dep}`);
      else if (condition === 'service_healthy' && (!target.healthcheck?.test || target.healthcheck.disable))
        problems.push(`compose service ${name}: waits for ${dep} to be healthy, which has no health check`);
      else if (condition === 'service_completed_successfully' && target.restart !== 'no')
        problems.push(
          `compose service ${name}: waits for ${dep} to complete, which restarts (${target.restart ?? 'default'})`,
        );
    }
  }
  return problems;
}

export function checkComposeHardening(compose: ComposeFile): string[] {
  return Object.entries(compose.services).flatMap(([name, s]) => [
    ...(s.privileged ? [`compose service ${name}: privileged`] : []),
    ...(s.cap_drop?.includes('ALL') ? [] : [`compose service ${name}: does not drop all capabilities`]),
    ...(s.security_opt?.includes('no-new-privileges:true') ? [] : [`compose service ${name}: lacks no-new-privileges`]),
    ...(s.read_only ? [] : [`compose service ${name}: its root filesystem is writable`]),
  ]);
}

// ------------------------------------------------------------------ secrets

/** Names of variables that hold a secret (or, as `X_FILE`, name the file holding it). */
export const SECRET_NAME = /PASSWORD|SECRET|PRIVATE_KEY|API_KEY/i;

/** Where compose mounts a service's `secrets:`. */
const COMPOSE_SECRETS_DIR = '/run/secrets/';

/**
 * No secret is written in a manifest, and none is an environment value a tool prints: a
 * secret-looking variable is `X_FILE`, naming a mounted secret file (in compose, one of the
 * service's `secrets:`; in Kubernetes, a file of a Secret volume); no manifest is itself a Secret.
 */
export function checkNoPlaintextSecrets(
  containers: Container[],
  objects: K8sObject[],
  compose?: ComposeFile,
): string[] {
  const problems: string[] = [];
  for (const c of containers) {
    for (const [name, value] of c.env) {
      if (!SECRET_NAME.test(name)) continue;
      const path = 'value' in value && name.endsWith('_FILE') ? value.value : undefined;
      // In Kubernetes too: a file of a mounted Secret (kubernetes-pods.ts checks which), not a value.
      if (c.source === 'kubernetes' && !path?.startsWith('/'))
        problems.push(
          `${c.where}: ${name} must be ${name.replace(/_FILE$/, '')}_FILE naming a file of a mounted Secret, not a value`,
        );
      if (c.source === 'compose') {
        const mounted = (compose?.services[c.owner]?.secrets as (string | { source: string })[] | undefined) ?? [];
        const names = mounted.map((s) => (typeof s === 'string' ? s : s.source));
        if (!path?.startsWith(COMPOSE_SECRETS_DIR))
          problems.push(
            `${c.where}: ${name} must be ${name.replace(/_FILE$/, '')}_FILE naming a mounted secret, not a value`,
          );
        else if (!names.includes(path.slice(COMPOSE_SECRETS_DIR.length)))
          problems.push(`${c.where}: ${name} names ${path}, not one of the service's secrets`);
      }
    }
  }
  for (const [name, secret] of Object.entries((compose?.secrets ?? {}) as Record<string, { file?: string }>))
    if (!secret.file?.startsWith('./.secrets/'))
      problems.push(`compose secret ${name}: not a file in .secrets/ (made at run time, git-ignored)`);
  for (const o of objects)
    if (o.kind === 'Secret')
      problems.push(`${describeObject(o)}: a Secret in the manifests; scripts/k8s-secrets.ts makes them at deployment`);
  return problems;
}

const KEY_MATERIAL: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a PEM private key'],
  [/"d"\s*:\s*"[A-Za-z0-9_-]{16,}"/, 'a private JWK'],
  [/\b(?:password|passwd|secret)[ \t]*[:=][ \t]*["']?(?!\$\{)[A-Za-z0-9+/_-]{8,}/i, 'a password or secret value'],
];

/** Key material or a literal password in a committed file's text. */
export function findKeyMaterial(files: { path: string; text: string }[]): string[] {
  return files.flatMap(({ path, text }) =>
    KEY_MATERIAL.filter(([re]) => re.test(text)).map(([, what]) => `${path}: contains ${what}`),
  );
}

/** Every Secret key the workloads use: env secretKeyRefs and Secret volume items. */
export function secretReferences(objects: K8sObject[]): Set<string> {
  const refs = new Set<string>();
  for (const { pod } of workloads(objects)) {
    for (const c of podContainers(pod))
      for (const e of c.env ?? [])
        if (e.valueFrom?.secretKeyRef) refs.add(`${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`);
    for (const v of pod.volumes ?? []) {
      for (const item of v.secret?.items ?? []) refs.add(`${v.secret?.secretName}/${item.key}`);
      for (const s of v.projected?.sources ?? [])
        for (const item of s.secret?.items ?? []) refs.add(`${s.secret?.name}/${item.key}`);
      if (v.secret && !v.secret.items) refs.add(`${v.secret.secretName}/*`);
    }
  }
  return refs;
}

// ------------------------------------------------------------------ pods

/** The restricted Pod Security Standard, resources, and no service-account token. */
export function checkPodSecurity(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    const where = describeObject(object);
    const sc = pod.securityContext ?? {};
    if (sc.runAsNonRoot !== true) problems.push(`${where}: runAsNonRoot is not set`);
    if (!(typeof sc.runAsUser === 'number' && sc.runAsUser >= 1000))
      problems.push(`${where}: runAsUser is not a non-root uid`);
    if (sc.seccompProfile?.type !== 'RuntimeDefault') problems.push(`${where}: seccompProfile is not RuntimeDefault`);
    if (pod.automountServiceAccountToken !== false)
      problems.push(`${where}: mounts a service-account token it does not need`);
    if (pod.hostNetwork || pod.hostPID) problems.push(`${where}: uses the host's network or PIDs`);
    for (const c of podContainers(pod)) {
      const at = `${where} container ${c.name}`;
      const csc = c.securityContext ?? {};
      if (csc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation is not false`);
      if (csc.privileged) problems.push(`${at}: privileged`);
      if (!csc.capabilities?.drop?.includes('ALL')) problems.push(`${at}: does not drop ALL capabilities`);
      if (csc.capabilities?.add?.length) problems.push(`${at}: adds capabilities`);
      if (csc.readOnlyRootFilesystem !== true) problems.push(`${at}: root filesystem is writable`);
      if (!c.resources?.requests?.cpu || !c.resources.requests.memory)
        problems.push(`${at}: no cpu and memory requests`);
      if (!c.resources?.limits?.memory) problems.push(`${at}: no memory limit`);
      if (!c.image?.includes(':') || c.image.endsWith(':latest'))
        problems.push(`${at}: image '${c.image}' is not pinned to a version`);
    }
  }
  return problems;
}

/** Readiness and liveness: /health on the services, /fhir/metadata on HAPI, on a port the container has. */
export function checkProbes(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    for (const c of pod.containers) {
      const at = `${describeObject(object)} container ${c.name}`;
      const role = roleOf(c.image ?? '', [...(c.command ?? []), ...(c.args ?? [])]);
      const path = role === 'hub' || role === 'gateway' ? '/health' : role === 'hapi' ? '/fhir/metadata' : undefined;
      if (role === 'prepare-hapi') continue;
      for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
        const probe = c[kind];
        if (!probe) {
          problems.push(`${at}: no ${kind}`);
          continue;
        }
        if (path === undefined) continue;
        if (probe.httpGet?.path !== path) problems.push(`${at}: ${kind} is not GET ${path}`);
        const port = probe.httpGet?.port;
        const known = c.ports?.some((p) => (typeof port === 'string' ? p.name === port : p.containerPort === port));
        if (!known) problems.push(`${at}: ${kind} port ${String(port)} is not a port of the container`);
      }
    }
  }
  return problems;
}
