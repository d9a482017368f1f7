import { describe, expect, it } from 'vitest';
import { detectContainerRuntime, identifyRuntime } from './container-runtime.ts';

type Answers = Record<string, { status: number; body: string } | undefined>;
/** A stand-in for the Docker API: answers by socket and path. */
const asking = (answers: Answers) => async (host: string, path: string) => answers[`${host}${path}`];

const PODMAN_VERSION = JSON.stringify({ Version: '4.3.1', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] });
const DOCKER_VERSION = JSON.stringify({
  Version: '28.2.2',
  Components: [{ Name: 'Engine', Version: '28.2.2' }, { Name: 'containerd' }],
});

describe('container runtime detection', () => {
  it('tells Podman from Docker by the components of /version', async () => {
    expect(
      await identifyRuntime(
        'unix:///p.sock',
        asking({ 'unix:///p.sock/version': { status: 200, body: PODMAN_VERSION } }),
      ),
    ).toEqual({
      kind: 'podman',
      dockerHost: 'unix:///p.sock',
      version: '4.3.1',
    });
    expect(
      (
        await identifyRuntime(
          'unix:///d.sock',
          asking({ 'unix:///d.sock/version': { status: 200, body: DOCKER_VERSION } }),
        )
      )?.kind,
    ).toBe('docker');
    expect(
      await identifyRuntime('unix:///x.sock', asking({ 'unix:///x.sock/version': { status: 500, body: 'boom' } })),
    ).toBeUndefined();
  });

  it('prefers Docker’s socket, then Podman’s', async () => {
    const both = asking({
      'unix:///var/run/docker.sock/version': { status: 200, body: DOCKER_VERSION },
      'unix:///run/podman/podman.sock/version': { status: 200, body: PODMAN_VERSION },
    });
    expect(await detectContainerRuntime({ env: {}, ask: both })).toMatchObject({ kind: 'docker' });
    const podmanOnly = asking({ 'unix:///run/podman/podman.sock/version': { status: 200, body: PODMAN_VERSION } });
    expect(await detectContainerRuntime({ env: {}, ask: podmanOnly })).toMatchObject({
      kind: 'podman',
      dockerHost: 'unix:///run/podman/podman.sock',
    });
  });

  it('DOCKER_HOST, when set, is the only place it looks', async () => {
    const ask = asking({ 'unix:///var/run/docker.sock/version': { status: 200, body: DOCKER_VERSION } });
    const found = await detectContainerRuntime({
      env: { DOCKER_HOST: 'unix:///elsewhere.sock' },
      ask,
      setUpPodman: async () => true,
    });
    expect(found).toEqual({ unavailable: ['nothing answers the Docker API on unix:///elsewhere.sock'] });
  });

  it('sets Podman up when nothing answers, and says why when that fails too', async () => {
    let setUp = false;
    const ask = async (host: string, path: string) =>
      setUp && `${host}${path}` === 'unix:///run/podman/podman.sock/version'
        ? { status: 200, body: PODMAN_VERSION }
        : undefined;
    expect(await detectContainerRuntime({ env: {}, ask, setUpPodman: async () => (setUp = true) })).toMatchObject({
      kind: 'podman',
    });
    const none = await detectContainerRuntime({ env: {}, ask: asking({}), setUpPodman: async () => false });
    expect(none).toEqual({
      unavailable: [
        'nothing answers the Docker API on unix:///var/run/docker.sock',
        'nothing answers the Docker API on unix:///run/podman/podman.sock',
        'Podman could not be set up (infra/podman/setup.sh: not root, no apt-get, or it failed)',
      ],
    });
  });

  it("runs Podman's set-up when Podman's socket answers too (a service can answer and no longer start containers), never for Docker's", async () => {
    let runs = 0;
    const setUpPodman = async () => {
      runs++;
      return true;
    };
    const podmanOnly = asking({ 'unix:///run/podman/podman.sock/version': { status: 200, body: PODMAN_VERSION } });
    expect(await detectContainerRuntime({ env: {}, ask: podmanOnly, setUpPodman })).toMatchObject({ kind: 'podman' });
    expect(runs).toBe(1);
    const docker = asking({ 'unix:///var/run/docker.sock/version': { status: 200, body: DOCKER_VERSION } });
    expect(await detectContainerRuntime({ env: {}, ask: docker, setUpPodman })).toMatchObject({ kind: 'docker' });
    const given = { DOCKER_HOST: 'unix:///run/podman/podman.sock' };
    expect(await detectContainerRuntime({ env: given, ask: podmanOnly, setUpPodman })).toMatchObject({
      kind: 'podman',
    });
    expect(runs).toBe(1);
    // Where the set-up cannot run (not root), the Podman that answers is still the one used.
    const notRoot = await detectContainerRuntime({ env: {}, ask: podmanOnly, setUpPodman: async () => false });
    expect(notRoot).toMatchObject({ kind: 'podman' });
  });
});
