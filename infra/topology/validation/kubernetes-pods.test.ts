import { describe, expect, it } from 'vitest';
import type { PodSpec } from './deployment.ts';
import { loadDeployment, podSpecOf } from './deployment.ts';
import type { K8sObject } from './kubernetes-schema.ts';
import {
  checkKubernetesStartOrder,
  checkPortableVolumes,
  checkProbePorts,
  checkSecretsAsFiles,
  mountedSecretFiles,
} from './kubernetes-pods.ts';

const deployment = loadDeployment();
/** A deep copy of the objects, to break in a negative test. */
const copy = (): K8sObject[] => structuredClone(deployment.objects);
const pod = (objects: K8sObject[], kind: string, name: string): PodSpec => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  const spec = o && podSpecOf(o);
  if (!spec) throw new Error(`no pod in ${kind}/${name}`);
  return spec;
};
const container = (spec: PodSpec, name: string) => {
  const c = [...(spec.initContainers ?? []), ...spec.containers].find((x) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};

describe('pod volumes', () => {
  it('are plain secret, configMap, emptyDir or claim volumes, each secret and configMap stating optional, no item renamed', () => {
    expect(checkPortableVolumes(deployment.objects)).toEqual([]);
    const kinds = deployment.objects.flatMap((o) =>
      (podSpecOf(o)?.volumes ?? []).flatMap((v) => Object.keys(v).filter((k) => k !== 'name')),
    );
    expect(new Set(kinds)).toEqual(new Set(['secret', 'configMap', 'emptyDir']));
  });

  it('catch a projected volume, a secret volume without optional, and a renamed item', () => {
    const broken = copy();
    const hub = pod(broken, 'Deployment', 'hub');
    hub.volumes?.push({
      name: 'config',
      projected: { sources: [{ configMap: { name: 'imaging-topology' } }] },
    });
    const gateway = pod(broken, 'Deployment', 'gateway-north');
    const pageToken = gateway.volumes?.find((v) => v.name === 'page-token')?.secret;
    delete pageToken?.optional;
    if (pageToken?.items?.[0]) pageToken.items[0].path = 'secret';
    expect(checkPortableVolumes(broken)).toEqual([
      'Deployment/hub volume config: projected volume; use secret, configMap, emptyDir, persistentVolumeClaim',
      "Deployment/gateway-north volume page-token: secret volume without 'optional'",
      'Deployment/gateway-north volume page-token: item north renamed to secret',
    ]);
  });
});

describe('probes', () => {
  it('are run by the kubelet on a numbered port the container declares, or are commands the image has', () => {
    expect(checkProbePorts(deployment.objects)).toEqual([]);
    const hapi = container(pod(deployment.objects, 'Deployment', 'hapi'), 'hapi');
    expect([hapi.startupProbe?.httpGet?.port, hapi.readinessProbe?.httpGet?.port]).toEqual([8080, 8080]);
    expect(hapi.ports).toContainEqual({ name: 'http', containerPort: 8080 });
  });

  it('catch a named port, a port the container lacks, and a curl the image does not have', () => {
    const broken = copy();
    const hub = container(pod(broken, 'Deployment', 'hub'), 'hub');
    if (hub.readinessProbe?.httpGet) hub.readinessProbe.httpGet.port = 'http';
    if (hub.livenessProbe?.httpGet) hub.livenessProbe.httpGet.port = 4001;
    const south = container(pod(broken, 'Deployment', 'gateway-south'), 'gateway');
    south.livenessProbe = { exec: { command: ['sh', '-c', 'curl -f http://127.0.0.1:4103/health'] } };
    const postgres = container(pod(broken, 'StatefulSet', 'postgres'), 'postgres');
    postgres.readinessProbe = { tcpSocket: { port: 5433 } };
    expect(checkProbePorts(broken)).toEqual([
      'StatefulSet/postgres container postgres: readinessProbe port 5433 is not a port of the container',
      "Deployment/hub container hub: readinessProbe port 'http' is a name; give the number",
      'Deployment/hub container hub: livenessProbe port 4001 is not a port of the container',
      'Deployment/gateway-south container gateway: livenessProbe runs curl, which the images do not have; use httpGet or tcpSocket',
    ]);
  });
});

describe('secrets', () => {
  it('reach every container as files of mounted Secret volumes, never as environment values', () => {
    expect(checkSecretsAsFiles(deployment.objects)).toEqual([]);
    const files = (kind: string, name: string, c: string) => {
      const spec = pod(deployment.objects, kind, name);
      const mounted = mountedSecretFiles(spec, container(spec, c));
      return Object.fromEntries(
        (container(spec, c).env ?? [])
          .filter((e) => e.name.endsWith('_FILE'))
          .map((e) => [e.name, mounted.get(e.value ?? '')]),
      );
    };
    expect(files('StatefulSet', 'postgres', 'postgres')).toEqual({ POSTGRES_PASSWORD_FILE: 'imaging-db/password' });
    expect(files('Deployment', 'hapi', 'hapi')).toEqual({ HAPI_DB_PASSWORD_FILE: 'imaging-db/password' });
    expect(files('Deployment', 'hub', 'hub')).toEqual({ PAGE_TOKEN_SECRET_FILE: 'imaging-page-tokens/hub' });
    for (const r of deployment.topology.regions)
      expect(files('Deployment', `gateway-${r.id}`, 'gateway')).toEqual({
        PAGE_TOKEN_SECRET_FILE: `imaging-page-tokens/${r.id}`,
      });
    const hub = pod(deployment.objects, 'Deployment', 'hub');
    expect(mountedSecretFiles(hub, container(hub, 'hub')).get('/data/keys/national-hub.private.jwk.json')).toBe(
      'imaging-credentials/national-hub.private.jwk.json',
    );
  });

  it('catch a Secret passed as an environment value, and a _FILE outside any mounted Secret', () => {
    const broken = copy();
    const hapi = container(pod(broken, 'Deployment', 'hapi'), 'hapi');
    hapi.env = (hapi.env ?? []).filter((e) => e.name !== 'HAPI_DB_PASSWORD_FILE');
    hapi.env.push({ name: 'HAPI_DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'imaging-db', key: 'password' } } });
    const north = pod(broken, 'Deployment', 'gateway-north');
    const page = (container(north, 'gateway').env ?? []).find((e) => e.name === 'PAGE_TOKEN_SECRET_FILE');
    if (page) page.value = '/data/page-token';
    const postgres = container(pod(broken, 'StatefulSet', 'postgres'), 'postgres');
    postgres.volumeMounts = (postgres.volumeMounts ?? []).filter((m) => m.name !== 'db-password');
    expect(checkSecretsAsFiles(broken)).toEqual([
      'StatefulSet/postgres container postgres: POSTGRES_PASSWORD_FILE names /run/secrets/db/password, which is no file of a mounted Secret',
      'Deployment/hapi container hapi: HAPI_DB_PASSWORD is the Secret imaging-db/password as an environment value; mount it and set HAPI_DB_PASSWORD_FILE',
      'Deployment/gateway-north container gateway: PAGE_TOKEN_SECRET_FILE names /data/page-token, which is no file of a mounted Secret',
    ]);
  });
});

describe('start-up order', () => {
  it('holds without the cluster ordering anything: HAPI waits for PostgreSQL, the Job retries, the services wait for HAPI', () => {
    expect(checkKubernetesStartOrder(deployment.objects)).toEqual([]);
    const wait = container(pod(deployment.objects, 'Deployment', 'hapi'), 'wait-for-postgres');
    expect(wait.image).toBe('localhost/imaging-connect/postgresql:15');
    const job = deployment.objects.find((o) => o.kind === 'Job') as K8sObject & { spec: { backoffLimit: number } };
    expect(job.spec.backoffLimit).toBeGreaterThanOrEqual(3);
  });

  it('catch HAPI not waiting for PostgreSQL, a Job restarting in place, and a service not waiting for HAPI', () => {
    const broken = copy();
    delete pod(broken, 'Deployment', 'hapi').initContainers;
    pod(broken, 'Job', 'prepare-hapi').restartPolicy = 'OnFailure';
    pod(broken, 'Deployment', 'gateway-midlands').initContainers = [];
    expect(checkKubernetesStartOrder(broken)).toEqual([
      'Deployment/hapi: HAPI does not wait for PostgreSQL (an init container running pg_isready -h postgres)',
      "Job/prepare-hapi: restartPolicy OnFailure; Never keeps each failed attempt's pod and log",
      'Deployment/gateway-midlands: does not wait for the prepared HAPI (an init container running prepare-hapi.ts --wait-only)',
    ]);
  });
});
