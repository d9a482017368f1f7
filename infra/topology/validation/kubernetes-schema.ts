import { validate as configMap } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ConfigMap';
import { validate as namespace } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace';
import { validate as secret } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Secret';
import { validate as service } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as deployment } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as statefulSet } from 'kubernetes-models/_schemas/IoK8sApiAppsV1StatefulSet';
import { validate as job } from 'kubernetes-models/_schemas/IoK8sApiBatchV1Job';
import { validate as networkPolicy } from 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy';

/**
 * Validation of Kubernetes objects against the Kubernetes OpenAPI schemas (compiled by the
 * kubernetes-models package), plus what those schemas let through and the API server refuses:
 * fields the schema does not know (a typo such as `readinessprobe` is silently dropped by a lenient
 * client), and names that are not DNS names.
 */

type SchemaValidator = ((data: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string; keyword: string; params?: Record<string, unknown> }[] | null;
};

const VALIDATORS: Record<string, SchemaValidator> = {
  'v1/ConfigMap': configMap,
  'v1/Namespace': namespace,
  'v1/Secret': secret,
  'v1/Service': service,
  'apps/v1/Deployment': deployment,
  'apps/v1/StatefulSet': statefulSet,
  'batch/v1/Job': job,
  'networking.k8s.io/v1/NetworkPolicy': networkPolicy,
};

export const SUPPORTED_KINDS = Object.keys(VALIDATORS);

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

export function isK8sObject(value: unknown): value is K8sObject {
  const v = value as Partial<K8sObject> | null;
  return typeof v === 'object' && v !== null && typeof v.apiVersion === 'string' && typeof v.kind === 'string';
}

export function describeObject(object: Partial<K8sObject>): string {
  return `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Kinds whose names must be DNS labels (they become host names or label values). */
const LABEL_NAMED = new Set(['Namespace', 'Service', 'StatefulSet']);

/** Every problem of one object; empty when it is valid. */
export function validateK8sObject(value: unknown): string[] {
  if (!isK8sObject(value)) return ['not a Kubernetes object (apiVersion and kind are required)'];
  const where = describeObject(value);
  const validator = VALIDATORS[`${value.apiVersion}/${value.kind}`];
  if (!validator)
    return [`${where}: no schema for ${value.apiVersion} ${value.kind} (supported: ${SUPPORTED_KINDS.join(', ')})`];
  const problems: string[] = [];
  const name = value.metadata?.name;
  if (typeof name !== 'string') problems.push(`${where}: metadata.name is required`);
  else if (!(LABEL_NAMED.has(value.kind) ? DNS_LABEL : DNS_SUBDOMAIN).test(name))
    problems.push(`${where}: '${name}' is not a valid ${value.kind} name`);

  const reads = new Map<string, { read: Set<string>; keys: string[] }>();
  if (!validator(tracked(value, '', reads))) {
    for (const e of validator.errors ?? [])
      problems.push(`${where}: ${e.instancePath || '/'} ${e.message ?? describeError(e.keyword, e.params ?? {})}`);
  }
  for (const [path, { read, keys }] of reads) {
    for (const key of keys) if (!read.has(key)) problems.push(`${where}: ${path}/${key}: unknown field`);
  }
  return problems;
}

/** The compiled validators carry no messages: words for the keywords Kubernetes schemas use. */
function describeError(keyword: string, params: Record<string, unknown>): string {
  switch (keyword) {
    case 'required':
      return `misses the required field '${String(params.missingProperty)}'`;
    case 'type':
      return `must be ${String(params.type)}`;
    case 'enum':
      return `must be one of ${JSON.stringify(params.allowedValues)}`;
    case 'format':
      return `must match format "${String(params.format)}"`;
    default:
      return `fails '${keyword}' ${JSON.stringify(params)}`;
  }
}

/**
 * The compiled validators read each property the schema defines, and only those (maps such as
 * labels are read key by key). A proxy records the reads: an own key nobody read is a field the
 * schema does not have.
 */
function tracked(value: unknown, path: string, reads: Map<string, { read: Set<string>; keys: string[] }>): unknown {
  if (value === null || typeof value !== 'object') return value;
  const read = new Set<string>();
  reads.set(path, { read, keys: Object.keys(value) });
  return new Proxy(value, {
    get(target, key, receiver) {
      const got: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.hasOwn(target, key)) return got;
      read.add(key);
      return tracked(got, `${path}/${key}`, reads);
    },
  });
}
