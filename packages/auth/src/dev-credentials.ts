import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Topology } from '@imaging/config';
import { HUB_CLIENT_ID } from './endpoints.ts';
import type { SigningKey } from './keys.ts';
import { loadOrCreateKeyPair, loadOrCreatePublicJwk } from './keys.ts';
import type { ClientRegistration, ClientRegistryFile } from './registry.ts';

/**
 * Development credentials: a key pair per API client and one for the hub, under the git-ignored
 * data dir, and the hub's client registry holding the clients' PUBLIC keys. Private keys are only
 * ever written to `<dataDir>/keys/`, mode 0600, and never logged.
 */

export const DATA_DIR_ENV = 'IMAGING_DATA_DIR';

/** `$IMAGING_DATA_DIR`, else `<repo>/.data` (the repo root found from this file's location). */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
  const fromEnv = env[DATA_DIR_ENV];
  return fromEnv ? resolve(fromEnv) : resolve(import.meta.dirname, '../../..', '.data');
}

const SAFE_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** Where a client's (or the hub's) private key lives. */
export function devKeyFile(dataDir: string, id: string): string {
  if (!SAFE_ID.test(id)) throw new Error(`Not a client id: '${id}'`);
  return join(dataDir, 'keys', `${id}.private.jwk.json`);
}

export function clientRegistryFile(dataDir: string): string {
  return join(dataDir, 'clients.json');
}

export interface DevCredentials {
  dataDir: string;
  clientRegistryFile: string;
  clients: ClientRegistration[];
  hubKey: SigningKey;
}

/**
 * Makes whatever is missing and leaves the rest: existing keys are kept, and `clients.json` is
 * rewritten from the topology (only when it changes).
 */
export async function ensureDevCredentials(
  topology: Pick<Topology, 'clients'>,
  dataDir: string = defaultDataDir(),
): Promise<DevCredentials> {
  const clients: ClientRegistration[] = [];
  for (const client of topology.clients) {
    if (client.id === HUB_CLIENT_ID) throw new Error(`'${HUB_CLIENT_ID}' is the hub's own id, not a client id`);
    // Only the public half is registered: the clients' private keys are not imported here.
    const publicJwk = await loadOrCreatePublicJwk(devKeyFile(dataDir, client.id));
    clients.push({
      id: client.id,
      kind: client.kind,
      ...(client.region ? { region: client.region } : {}),
      ...(client.organisation ? { organisation: client.organisation } : {}),
      scopes: [...client.scopes],
      jwks: { keys: [publicJwk] },
    });
  }
  const hubKey = await loadDevHubKey(dataDir);
  const file = clientRegistryFile(dataDir);
  writeIfChanged(file, `${JSON.stringify({ clients } satisfies ClientRegistryFile, null, 2)}\n`);
  return { dataDir, clientRegistryFile: file, clients, hubKey };
}

/** The hub's signing key in the data dir (made on first use). */
export function loadDevHubKey(dataDir: string = defaultDataDir()): Promise<SigningKey> {
  return loadOrCreateKeyPair(devKeyFile(dataDir, HUB_CLIENT_ID));
}

function writeIfChanged(file: string, content: string): void {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === content) return;
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o644 });
  renameSync(temp, file);
}
