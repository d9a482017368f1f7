import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SigningKey } from '@imaging/auth';
import {
  CLIENT_ASSERTION_TYPE,
  clientRegistryFile,
  devClientKey,
  devKeyFile,
  signClientAssertion,
  tokenEndpointOf,
} from '@imaging/auth';
import { memoryLogger } from '@imaging/fhir';
import { createApp, createDeps, loadConfig } from '@imaging/national-hub';
import { afterAll, describe, expect, it } from 'vitest';
import { OPERATIONS_DOC, taggedCommands } from '../smoke/operations-doc.ts';
import { loadDeployment, TOPOLOGY_DIR } from '../validation/deployment.ts';

/**
 * docs/operations.md, "Rotating a client's key": its `sh rotate-key` block run on the hub's own
 * start-up code (createDeps, as main.ts calls it) with the compose file's hub environment, a temp
 * dir standing in for the hub's data volume. `podman exec … rm /data/…` becomes the same `rm` in the
 * temp dir, `restart hub` a second start-up; tokens come from the real token endpoint.
 */

const HUB_DATA = '/data';
const EXEC_IN_HUB = 'podman exec imaging-connect_hub_1 ';
const RESTART_HUB = 'sudo podman-compose -p imaging-connect -f infra/topology/compose.yaml restart hub';

const dataDir = mkdtempSync(join(tmpdir(), 'imaging-rotate-key-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The hub's environment from compose.yaml, its volume and its store moved into the temp dir. */
function hubEnvironment(): Record<string, string> {
  const env = loadDeployment().compose.services.hub?.environment;
  if (!env || Array.isArray(env)) throw new Error('compose.yaml: the hub has no environment map');
  const strings = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  expect(strings.DEV_CREDENTIALS).toBe('true');
  expect(strings.IMAGING_DATA_DIR).toBe(HUB_DATA);
  return {
    ...strings,
    IMAGING_DATA_DIR: dataDir,
    TOPOLOGY_FILE: join(TOPOLOGY_DIR, 'topology.json'),
    HUB_STORE: join(dataDir, 'hub.sqlite'),
  };
}

/** One start of the hub (what the container's main does before it listens). */
async function startHub() {
  const config = loadConfig(hubEnvironment());
  const deps = await createDeps(config, memoryLogger());
  return { app: createApp(deps), deps, tokenUrl: tokenEndpointOf(deps.publicUrl) };
}
type Hub = Awaited<ReturnType<typeof startHub>>;

async function stopHub(hub: Hub): Promise<void> {
  hub.deps.flow?.close();
  await hub.deps.store.close();
}

/** A client-credentials request to the hub's token endpoint, with an assertion signed by `key`. */
async function requestToken(hub: Hub, clientId: string, key: SigningKey) {
  const assertion = await signClientAssertion({
    tokenUrl: hub.tokenUrl,
    clientId,
    privateKey: key.privateKey,
    kid: key.kid,
    alg: key.alg,
  });
  const response = await hub.app.request(hub.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
    }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The public keys clients.json registers for a client. */
function registeredKids(clientId: string): string[] {
  const file = JSON.parse(readFileSync(clientRegistryFile(dataDir), 'utf8')) as {
    clients: { id: string; jwks: { keys: { kid: string }[] } }[];
  };
  return file.clients.find((c) => c.id === clientId)?.jwks.keys.map((k) => k.kid) ?? [];
}

describe("docs/operations.md: rotating a client's key", () => {
  const blocks = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8'), 'rotate-key');

  it('is one block: remove the private key in the hub, then restart the hub', () => {
    expect(blocks).toHaveLength(1);
    const lines = (blocks[0]?.script ?? '').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^podman exec imaging-connect_hub_1 rm \/data\/keys\/[a-z0-9-]+\.private\.jwk\.json$/);
    expect(lines[1]).toBe(RESTART_HUB);
  });

  it('gives the client a new key pair, registered at the restart; the old key is refused', async () => {
    const [remove] = (blocks[0]?.script ?? '').split('\n') as [string];
    const clientId = /\/keys\/([a-z0-9-]+)\.private\.jwk\.json$/.exec(remove)?.[1] as string;

    const before = await startHub();
    const oldKey = await devClientKey(clientId, dataDir);
    expect(registeredKids(clientId)).toEqual([oldKey.kid]);
    const first = await requestToken(before, clientId, oldKey);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.access_token).toEqual(expect.any(String));
    await stopHub(before);

    // The doc's `rm`, as written, on the data dir in place of the hub's /data.
    execFileSync('sh', ['-euc', remove.slice(EXEC_IN_HUB.length).replaceAll(`${HUB_DATA}/`, `${dataDir}/`)]);
    expect(existsSync(devKeyFile(dataDir, clientId))).toBe(false);

    // `restart hub`: the start-up step again.
    const after = await startHub();
    try {
      const newKey = await devClientKey(clientId, dataDir);
      expect(newKey.kid).not.toBe(oldKey.kid);
      expect(registeredKids(clientId)).toEqual([newKey.kid]);

      const withNew = await requestToken(after, clientId, newKey);
      expect(withNew.status, JSON.stringify(withNew.body)).toBe(200);
      expect(withNew.body.access_token).toEqual(expect.any(String));

      const withOld = await requestToken(after, clientId, oldKey);
      expect(withOld.status).toBe(401);
      expect(withOld.body.error).toBe('invalid_client');

      // Every other client keeps its key.
      const other = await devClientKey('gp-n81002', dataDir);
      expect((await requestToken(after, 'gp-n81002', other)).status).toBe(200);
    } finally {
      await stopHub(after);
    }
  });
});
