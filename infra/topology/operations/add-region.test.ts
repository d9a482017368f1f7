import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubEnvSchema } from '@imaging/national-hub';
import { GatewayEnvSchema } from '@imaging/regional-gateway';
import { afterAll, describe, expect, it } from 'vitest';
import { validateComposeDocument } from '../validation/compose-schema.ts';
import type { Deployment } from '../validation/deployment.ts';
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
  expectedImages,
  loadDeployment,
  TOPOLOGY_DIR,
} from '../validation/deployment.ts';
import { validateK8sObject } from '../validation/kubernetes-schema.ts';

/**
 * docs/operations.md, "Adding a region": its steps done to a copy of the deployment's files (a
 * fourth region, `east`, modelled on `south`), then the checks `npm test` runs on the real files.
 * With every step done they pass; with one left out they fail, naming what is missing.
 */

const PARTITIONS = 'hub,north,midlands,south';
const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

function copyOfTopologyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'imaging-add-region-'));
  copies.push(dir);
  for (const file of ['topology.json', 'compose.yaml', 'kustomization.yaml', 'k8s'])
    cpSync(join(TOPOLOGY_DIR, file), join(dir, file), { recursive: true });
  return dir;
}

function edit(dir: string, file: string, change: (text: string) => string): void {
  const path = join(dir, file);
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  if (after === before) throw new Error(`${file}: the step changed nothing`);
  writeFileSync(path, after);
}

/** south -> east, 4103 -> 4104: a gateway's files name its region and its port, nothing else. */
const asEast = (text: string) =>
  text.replaceAll('south', 'east').replaceAll('South', 'East').replaceAll('4103', '4104');

/** The gateway-south service of compose.yaml, as text: from its key to the next top-level key. */
function composeServiceText(compose: string, name: string): string {
  const start = compose.indexOf(`\n  ${name}:\n`);
  const end = compose.indexOf('\nvolumes:\n', start);
  if (start < 0 || end < 0) throw new Error(`compose.yaml: no service ${name} before volumes:`);
  return compose.slice(start + 1, end);
}

/** The doc's steps, each one edit; `name` is how the doc names the piece. */
const STEPS: { name: string; apply: (dir: string) => void }[] = [
  {
    name: '1. topology.json: the region, its organisations and clients',
    apply: (dir) =>
      edit(dir, 'topology.json', (text) => {
        const topology = JSON.parse(text);
        const south = topology.clients.find((c: { id: string }) => c.id === 'gateway-south');
        topology.regions.push({
          id: 'east',
          name: 'East Imaging Network',
          serviceId: 'imaging-east',
          url: 'http://gateway-east:4104',
          port: 4104,
          failSafeOfficer: { id: 'east-failsafe', name: 'Sam Eastwood' },
          publicUrl: 'http://127.0.0.1:4104',
        });
        topology.organisations.push({
          ods: 'E81001',
          name: 'Fenside Surgery',
          region: 'east',
          kind: 'gp-practice',
          people: [{ id: 'e81001-shah', name: 'Dr Priya Shah', role: 'requesting-clinician' }],
        });
        topology.clients.push({ ...south, id: 'gateway-east', region: 'east' });
        return `${JSON.stringify(topology, null, 2)}\n`;
      }),
  },
  {
    name: '2. compose.yaml: the partition in HAPI_PARTITIONS',
    apply: (dir) =>
      edit(dir, 'compose.yaml', (t) =>
        t.replace(`HAPI_PARTITIONS: ${PARTITIONS}`, `HAPI_PARTITIONS: ${PARTITIONS},east`),
      ),
  },
  {
    name: "2. compose.yaml: the partition in prepare-hapi's --partitions",
    apply: (dir) => edit(dir, 'compose.yaml', (t) => t.replace(`"${PARTITIONS}",`, `"${PARTITIONS},east",`)),
  },
  {
    name: '2. compose.yaml: a gateway-east service and its data volume',
    apply: (dir) =>
      edit(dir, 'compose.yaml', (t) => {
        const service = asEast(composeServiceText(t, 'gateway-south'));
        return t
          .replace('\nvolumes:\n', `\n${service}\nvolumes:\n`)
          .replace('\n  south-data:\n', '\n  south-data:\n  east-data:\n');
      }),
  },
  {
    name: '3. k8s/gateway-east.yaml from gateway-south.yaml, listed in kustomization.yaml',
    apply: (dir) => {
      writeFileSync(
        join(dir, 'k8s/gateway-east.yaml'),
        asEast(readFileSync(join(dir, 'k8s/gateway-south.yaml'), 'utf8')),
      );
      edit(dir, 'kustomization.yaml', (t) =>
        t.replace('  - k8s/gateway-south.yaml\n', '  - k8s/gateway-south.yaml\n  - k8s/gateway-east.yaml\n'),
      );
    },
  },
  {
    name: '3. the partition in k8s/hapi.yaml and k8s/prepare-hapi-job.yaml',
    apply: (dir) => {
      edit(dir, 'k8s/hapi.yaml', (t) => t.replace(`value: ${PARTITIONS}\n`, `value: ${PARTITIONS},east\n`));
      edit(dir, 'k8s/prepare-hapi-job.yaml', (t) => t.replace(`"${PARTITIONS}",`, `"${PARTITIONS},east",`));
    },
  },
];

/** What `npm test` checks on the real files (validation/*.test.ts), on a copy. */
function problemsOf(deployment: Deployment): string[] {
  const containers = allContainers(deployment);
  return [
    ...validateComposeDocument(deployment.compose),
    ...deployment.objects.flatMap((o) => validateK8sObject(o)),
    ...checkTopologyAgreement(deployment, containers),
    ...checkServiceEnvironment(containers, { hub: HubEnvSchema, gateway: GatewayEnvSchema }),
    ...checkImages(containers, expectedImages()),
    ...checkPublishedPorts(deployment.compose),
    ...checkComposeStartOrder(deployment.compose),
    ...checkComposeHardening(deployment.compose),
    ...checkNoPlaintextSecrets(containers, deployment.objects, deployment.compose),
    ...checkPodSecurity(deployment.objects),
    ...checkProbes(deployment.objects),
  ];
}

function withSteps(skip?: string): Deployment {
  const dir = copyOfTopologyDir();
  for (const step of STEPS) if (step.name !== skip) step.apply(dir);
  return loadDeployment(dir);
}

describe('docs/operations.md: adding a region', () => {
  it('passes the checks with every step done, and the fourth region is in each part', () => {
    const deployment = withSteps();
    expect(problemsOf(deployment)).toEqual([]);
    expect(deployment.topology.regions.map((r) => r.id)).toEqual(['north', 'midlands', 'south', 'east']);
    expect(allContainers(deployment).filter((c) => c.role === 'gateway')).toHaveLength(8);
    expect(deployment.compose.volumes).toHaveProperty('east-data');
  });

  const missing: Record<string, RegExp[]> = {
    [STEPS[0]?.name as string]: [/^compose service gateway-east.*: REGION_ID east is no region of topology.json$/],
    [STEPS[1]?.name as string]: [/^compose service hapi.*: HAPI_PARTITIONS lacks east$/],
    [STEPS[2]?.name as string]: [/^compose service prepare-hapi.*: --partitions lacks east$/],
    [STEPS[3]?.name as string]: [/^compose: 0 containers run the gateway east, expected 1$/],
    [STEPS[4]?.name as string]: [/^kubernetes: 0 containers run the gateway east, expected 1$/],
    [STEPS[5]?.name as string]: [/HAPI_PARTITIONS lacks east$/, /--partitions lacks east$/],
  };
  it("fails when the topology's region has no gateway client, naming it", () => {
    const dir = copyOfTopologyDir();
    for (const step of STEPS) step.apply(dir);
    edit(dir, 'topology.json', (t) => {
      const topology = JSON.parse(t);
      topology.clients = topology.clients.filter((c: { id: string }) => c.id !== 'gateway-east');
      return JSON.stringify(topology);
    });
    expect(problemsOf(loadDeployment(dir))).toEqual([
      'topology.json: region east has no client gateway-east (kind gateway, region east)',
    ]);
  });

  it.each(STEPS.map((s) => s.name))('fails without step %s, naming what is missing', (name) => {
    const problems = problemsOf(withSteps(name));
    for (const expected of missing[name] ?? [/never/])
      expect(
        problems.some((p) => expected.test(p)),
        `${expected} in\n${problems.join('\n')}`,
      ).toBe(true);
  });
});
