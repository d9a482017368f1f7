import type { PodSpec, Probe } from './deployment.ts';
import { podContainers, roleOf, SECRET_NAME, workloads } from './deployment.ts';
import type { K8sObject } from './kubernetes-schema.ts';
import { describeObject } from './kubernetes-schema.ts';

/**
 * Rules for the pods of the Kubernetes manifests that the schemas cannot express: what makes a pod
 * run on every runtime (the kubelet of any cluster, and Podman's `kube play`), and how secrets reach
 * the containers. Each check returns its problems (empty when all is well).
 */

type Volume = NonNullable<PodSpec['volumes']>[number];
type PodContainer = PodSpec['containers'][number];

/** Volume sources every runtime supports; a projected volume is not among them (Podman 4.3 refuses it). */
const PORTABLE_VOLUMES = ['secret', 'configMap', 'emptyDir', 'persistentVolumeClaim'] as const;

/**
 * Plain volumes only. A secret or ConfigMap volume states `optional` (Podman 4.3's `kube play`
 * dereferences it and crashes when it is absent; a cluster reads false either way), and each item
 * keeps its key as its file name (Podman 4.3 ignores `items` and mounts every key under its name).
 */
export function checkPortableVolumes(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    for (const v of pod.volumes ?? []) {
      const at = `${describeObject(object)} volume ${v.name}`;
      const kinds = Object.keys(v).filter((k) => k !== 'name');
      const unsupported = kinds.filter((k) => !(PORTABLE_VOLUMES as readonly string[]).includes(k));
      if (unsupported.length)
        problems.push(`${at}: ${unsupported.join(', ')} volume; use ${PORTABLE_VOLUMES.join(', ')}`);
      if (v.secret && typeof v.secret.optional !== 'boolean') problems.push(`${at}: secret volume without 'optional'`);
      if (v.configMap && typeof v.configMap.optional !== 'boolean')
        problems.push(`${at}: configMap volume without 'optional'`);
      for (const item of [...(v.secret?.items ?? []), ...(v.configMap?.items ?? [])])
        if (item.path !== item.key) problems.push(`${at}: item ${item.key} renamed to ${item.path}`);
    }
  }
  return problems;
}

/** The port a probe checks, if it checks one. */
function probePort(probe: Probe): number | string | undefined {
  return probe.httpGet?.port ?? probe.tcpSocket?.port;
}

/** HTTP clients the images do not have (infra/services-image, infra/hapi-fhir, the PostgreSQL image). */
const ABSENT_CLIENTS = new Set(['curl', 'wget', 'nc']);

/**
 * Every probe of every container is one the kubelet runs (httpGet, tcpSocket) on a port the
 * container declares, given as a number (Podman 4.3 reads a named port as 0), or a command that
 * does not need an HTTP client the images lack.
 */
export function checkProbePorts(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    for (const c of podContainers(pod)) {
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const probe = c[kind];
        if (!probe) continue;
        const at = `${describeObject(object)} container ${c.name}: ${kind}`;
        const command = probe.exec?.command ?? [];
        const client = command.flatMap((w) => w.split(/\s+/)).find((w) => ABSENT_CLIENTS.has(w));
        if (client) problems.push(`${at} runs ${client}, which the images do not have; use httpGet or tcpSocket`);
        const port = probePort(probe);
        if (port === undefined) continue;
        if (typeof port !== 'number') problems.push(`${at} port '${port}' is a name; give the number`);
        else if (!c.ports?.some((p) => p.containerPort === port))
          problems.push(`${at} port ${port} is not a port of the container`);
      }
    }
  }
  return problems;
}

/** Where each file of a container's mounted secret volumes is, and which Secret key it holds. */
export function mountedSecretFiles(pod: PodSpec, container: PodContainer): Map<string, string> {
  const files = new Map<string, string>();
  const volumes = new Map((pod.volumes ?? []).map((v): [string, Volume] => [v.name, v]));
  for (const m of container.volumeMounts ?? []) {
    const secret = volumes.get(m.name)?.secret;
    if (!secret) continue;
    const dir = m.mountPath.replace(/\/+$/, '');
    // Without items, every key of the Secret is a file; k8s-secrets.ts checks the keys exist.
    for (const item of secret.items ?? [{ key: '*', path: '*' }])
      files.set(`${dir}/${item.path}`, `${secret.secretName}/${item.key}`);
  }
  return files;
}

/**
 * Secrets reach containers as files: no environment value is taken from a Secret (a tool that
 * prints the environment would print it), and every `X_FILE` of a secret setting names a file of a
 * Secret volume the container mounts.
 */
export function checkSecretsAsFiles(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    for (const c of podContainers(pod)) {
      const at = `${describeObject(object)} container ${c.name}`;
      const files = mountedSecretFiles(pod, c);
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref)
          problems.push(
            `${at}: ${e.name} is the Secret ${ref.name}/${ref.key} as an environment value; mount it and set ${e.name}_FILE`,
          );
        // `X_FILE` of a secret setting X (other *_FILE settings, e.g. TOPOLOGY_FILE, are plain files).
        if (!e.name.endsWith('_FILE') || !SECRET_NAME.test(e.name)) continue;
        const path = e.value ?? '';
        const dir = path.slice(0, path.lastIndexOf('/'));
        if (!files.has(path) && !files.has(`${dir}/*`))
          problems.push(`${at}: ${e.name} names ${path || 'nothing'}, which is no file of a mounted Secret`);
      }
    }
  }
  return problems;
}

/**
 * The start-up order holds without the cluster ordering anything: HAPI waits for PostgreSQL in an
 * init container; the preparation Job retries in new pods with back-off; the hub and the gateways
 * wait for the prepared HAPI in an init container.
 */
export function checkKubernetesStartOrder(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const { object, pod } of workloads(objects)) {
    const where = describeObject(object);
    const roles = pod.containers.map((c) => roleOf(c.image ?? '', [...(c.command ?? []), ...(c.args ?? [])]));
    const inits = (pod.initContainers ?? []).map((c) => ({
      role: roleOf(c.image ?? '', [...(c.command ?? []), ...(c.args ?? [])]),
      command: [...(c.command ?? []), ...(c.args ?? [])].join(' '),
    }));
    if (
      roles.includes('hapi') &&
      !inits.some((i) => i.role === 'postgres' && /\bpg_isready\b.*-h postgres\b/.test(i.command))
    )
      problems.push(`${where}: HAPI does not wait for PostgreSQL (an init container running pg_isready -h postgres)`);
    if (
      (roles.includes('hub') || roles.includes('gateway')) &&
      !inits.some((i) => i.role === 'prepare-hapi' && i.command.includes('--wait-only'))
    )
      problems.push(
        `${where}: does not wait for the prepared HAPI (an init container running prepare-hapi.ts --wait-only)`,
      );
    if (object.kind === 'Job') {
      const spec = object.spec as { backoffLimit?: number; template: { spec: { restartPolicy?: string } } };
      if ((spec.backoffLimit ?? 6) < 3)
        problems.push(`${where}: backoffLimit ${spec.backoffLimit} leaves too few retries`);
      if (spec.template.spec.restartPolicy !== 'Never')
        problems.push(
          `${where}: restartPolicy ${spec.template.spec.restartPolicy}; Never keeps each failed attempt's pod and log`,
        );
    }
  }
  return problems;
}
