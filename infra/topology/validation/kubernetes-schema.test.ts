import { describe, expect, it } from 'vitest';
import { validateK8sObject } from './kubernetes-schema.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'hub', labels: { 'app.kubernetes.io/instance': 'hub' } },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/instance': 'hub' } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/instance': 'hub' } },
      spec: {
        containers: [
          {
            name: 'hub',
            image: 'localhost/imaging-connect/services:0.1.0',
            ports: [{ name: 'http', containerPort: 4000 }],
            readinessProbe: { httpGet: { path: '/health', port: 'http' } },
          },
        ],
      },
    },
  },
});

describe('validateK8sObject', () => {
  it('accepts a valid Deployment', () => {
    expect(validateK8sObject(deployment())).toEqual([]);
  });

  it('names a value of the wrong type, with its path', () => {
    const d = deployment();
    (d.spec.template.spec.containers[0] as Record<string, unknown>).ports = [{ containerPort: '4000' }];
    expect(validateK8sObject(d)).toEqual([
      expect.stringMatching(
        /^Deployment\/hub: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer/,
      ),
    ]);
  });

  it('names a missing required field', () => {
    const d = deployment();
    delete (d.spec as Partial<typeof d.spec>).selector;
    expect(validateK8sObject(d)).toEqual(["Deployment/hub: /spec misses the required field 'selector'"]);
  });

  it('names fields the schema does not know, such as a misspelt probe', () => {
    const d = deployment();
    const container = d.spec.template.spec.containers[0] as Record<string, unknown>;
    container.readinessprobe = container.readinessProbe;
    delete container.readinessProbe;
    (d.spec as Record<string, unknown>).replica = 2;
    expect(validateK8sObject(d)).toEqual([
      'Deployment/hub: /spec/replica: unknown field',
      'Deployment/hub: /spec/template/spec/containers/0/readinessprobe: unknown field',
    ]);
  });

  it('reads labels and other maps without calling their keys unknown', () => {
    const d = deployment();
    (d.metadata.labels as Record<string, string>)['example.org/any-key'] = 'x';
    expect(validateK8sObject(d)).toEqual([]);
  });

  it('refuses a kind it has no schema for, an invalid name, and a non-object', () => {
    expect(validateK8sObject({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } })).toEqual([
      expect.stringContaining('no schema for v1 Pod'),
    ]);
    expect(validateK8sObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'Hub_1' }, spec: {} })).toEqual([
      "Service/Hub_1: 'Hub_1' is not a valid Service name",
    ]);
    expect(validateK8sObject('kind: Service')).toEqual(['not a Kubernetes object (apiVersion and kind are required)']);
  });
});
