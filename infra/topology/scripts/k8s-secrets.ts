/**
 * Makes the Kubernetes Secrets the manifests in ../k8s refer to, and prints them as one `v1 List`
 * (JSON) for kubectl. Nothing is written to disk but a temporary directory, removed at the end.
 *
 *   node infra/topology/scripts/k8s-secrets.ts --password-file <file> [--namespace imaging-connect]
 *       [--topology infra/topology/topology.json] [--keys-dir .data/k8s] | kubectl apply -f -
 *
 * The database password is read from --password-file (its trailing newlines dropped), or else from
 * POSTGRES_PASSWORD: a file keeps it out of the shell's history and the process list.
 *
 * With --keys-dir the dev keys are made in (and kept in) that directory, as `ensureDevCredentials`
 * lays them out, so the token CLI can sign for the dev clients (`IMAGING_DATA_DIR=<dir> pnpm -s token ...`);
 * keep it git-ignored (under .data/). Existing keys there are reused.
 *
 * - `imaging-db`: `password`, the PostgreSQL password (it must be provided);
 * - `imaging-credentials`: a fresh key pair per API client and for the hub (`<id>.private.jwk.json`,
 *   as `ensureDevCredentials` makes them) and the hub's client registry `clients.json` (public keys);
 * - `imaging-page-tokens`: one random page-link secret for the hub and one per region, shared by
 *   that service's replicas.
 * Running it again makes new keys and secrets: apply, then restart the Deployments.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { devKeyFile, ensureDevCredentials, HUB_CLIENT_ID } from '@imaging/auth';
import { readTopology } from '@imaging/config';
import type { Topology } from '@imaging/config';

export const NAMESPACE = 'imaging-connect';
export const DB_SECRET = 'imaging-db';
export const CREDENTIALS_SECRET = 'imaging-credentials';
export const PAGE_TOKENS_SECRET = 'imaging-page-tokens';
export const CLIENT_REGISTRY_KEY = 'clients.json';
export const MIN_PASSWORD_LENGTH = 12;

const USAGE =
  'usage: k8s-secrets.ts --password-file <file> [--namespace <ns>] [--topology <file>] [--keys-dir <dir>] | kubectl apply -f -\n' +
  '       (or POSTGRES_PASSWORD=... instead of --password-file)';
const DEFAULT_TOPOLOGY = resolve(import.meta.dirname, '..', 'topology.json');

export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  type: 'Opaque';
  data: Record<string, string>;
}

/** The Secret key of a client's (or the hub's) private key. */
export function privateKeyEntry(clientId: string): string {
  return `${clientId}.private.jwk.json`;
}

/** Builds the three Secrets; dev keys are made in `workDir`, which the caller removes. */
export async function buildSecrets(
  topology: Topology,
  options: { namespace: string; postgresPassword: string; workDir: string },
): Promise<SecretManifest[]> {
  const credentials = await ensureDevCredentials(topology, options.workDir);
  const ids = [HUB_CLIENT_ID, ...topology.clients.map((c) => c.id)];
  const keyFiles = Object.fromEntries(
    ids.map((id) => [privateKeyEntry(id), readFileSync(devKeyFile(options.workDir, id))]),
  );
  const secret = (name: string, data: Record<string, Buffer | string>): SecretManifest => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: options.namespace, labels: { 'app.kubernetes.io/part-of': 'imaging-connect' } },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  });
  const pageSecret = () => randomBytes(32).toString('base64url');
  return [
    secret(DB_SECRET, { password: options.postgresPassword }),
    secret(CREDENTIALS_SECRET, { ...keyFiles, [CLIENT_REGISTRY_KEY]: readFileSync(credentials.clientRegistryFile) }),
    secret(
      PAGE_TOKENS_SECRET,
      Object.fromEntries(['hub', ...topology.regions.map((r) => r.id)].map((k) => [k, pageSecret()])),
    ),
  ];
}

export interface SecretsIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Whether stdout is a terminal: private keys are never printed to one. */
  stdoutIsTerminal: boolean;
}

/** The command: returns its exit code (0 printed, 1 failed, 2 bad usage or input). */
export async function runK8sSecrets(argv: string[], io: SecretsIo): Promise<number> {
  let values: { namespace: string; topology: string; 'keys-dir'?: string; 'password-file'?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        namespace: { type: 'string', default: NAMESPACE },
        topology: { type: 'string', default: DEFAULT_TOPOLOGY },
        'keys-dir': { type: 'string' },
        'password-file': { type: 'string' },
      },
    }));
  } catch (err) {
    io.err(`k8s-secrets: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(values.namespace)) {
    io.err(`k8s-secrets: '${values.namespace}' is not a namespace name\n`);
    return 2;
  }
  const passwordFile = values['password-file'];
  if (passwordFile !== undefined && io.env.POSTGRES_PASSWORD) {
    io.err(`k8s-secrets: give --password-file or POSTGRES_PASSWORD, not both\n${USAGE}\n`);
    return 2;
  }
  let dbPassword = io.env.POSTGRES_PASSWORD ?? '';
  if (passwordFile !== undefined) {
    try {
      dbPassword = readFileSync(passwordFile, 'utf8').replace(/[\r\n]+$/, '');
    } catch (err) {
      io.err(`k8s-secrets: cannot read --password-file ${passwordFile} (${(err as NodeJS.ErrnoException).code})\n`);
      return 2;
    }
  }
  if (dbPassword.length < MIN_PASSWORD_LENGTH) {
    io.err(
      `k8s-secrets: the database password (--password-file or POSTGRES_PASSWORD) must have at least ${MIN_PASSWORD_LENGTH} characters\n${USAGE}\n`,
    );
    return 2;
  }
  if (io.stdoutIsTerminal) {
    io.err(`k8s-secrets: refusing to print private keys to a terminal; pipe the output into kubectl\n${USAGE}\n`);
    return 2;
  }
  let topology: Topology;
  try {
    topology = readTopology(values.topology);
  } catch (err) {
    io.err(`k8s-secrets: ${(err as Error).message}\n`);
    return 2;
  }
  const keysDir = values['keys-dir'] ? resolve(values['keys-dir']) : undefined;
  const workDir = keysDir ?? mkdtempSync(join(tmpdir(), 'imaging-k8s-secrets-'));
  try {
    const items = await buildSecrets(topology, { namespace: values.namespace, postgresPassword: dbPassword, workDir });
    io.out(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items }, null, 2)}\n`);
    io.err(
      `k8s-secrets: ${items.map((s) => `${s.metadata.name} (${Object.keys(s.data).length} keys)`).join(', ')} for namespace ${values.namespace}\n`,
    );
    return 0;
  } catch (err) {
    io.err(`k8s-secrets: failed: ${(err as Error).message}\n`);
    return 1;
  } finally {
    if (!keysDir) rmSync(workDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  process.exitCode = await runK8sSecrets(process.argv.slice(2), {
    env: process.env,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdoutIsTerminal: process.stdout.isTTY === true,
  });
}
