import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { HAPI_DIR, REPO_ROOT } from './hapi-jar.ts';

/** A Docker-compatible API the suite can start containers through. */
export interface ContainerRuntime {
  kind: 'docker' | 'podman';
  /** `unix:///…` (what DOCKER_HOST is set to for testcontainers). */
  dockerHost: string;
  version: string;
}

export const PODMAN_SOCKET = 'unix:///run/podman/podman.sock';
const DOCKER_SOCKET = 'unix:///var/run/docker.sock';

type Ask = (dockerHost: string, path: string) => Promise<{ status: number; body: string } | undefined>;

/** GET `path` on a Docker-compatible API over its unix socket; undefined when nothing answers. */
export const askSocket: Ask = (dockerHost, path) =>
  new Promise((resolve) => {
    if (!dockerHost.startsWith('unix://')) return resolve(undefined);
    const socketPath = dockerHost.slice('unix://'.length);
    if (!existsSync(socketPath)) return resolve(undefined);
    const req = request({ socketPath, path, method: 'GET', timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });

/** Which engine answers on `dockerHost` (Podman names itself among the version's components). */
export async function identifyRuntime(dockerHost: string, ask: Ask = askSocket): Promise<ContainerRuntime | undefined> {
  const answer = await ask(dockerHost, '/version');
  if (answer?.status !== 200) return undefined;
  let version: { Version?: string; Components?: { Name?: string }[] };
  try {
    version = JSON.parse(answer.body) as typeof version;
  } catch {
    return undefined;
  }
  const podman = (version.Components ?? []).some((c) => /podman/i.test(c.Name ?? ''));
  return { kind: podman ? 'podman' : 'docker', dockerHost, version: version.Version ?? 'unknown' };
}

export interface DetectOptions {
  env?: Record<string, string | undefined>;
  ask?: Ask;
  /**
   * Runs infra/podman/setup.sh (root only) when no container runtime answers, or when Podman's own socket
   * does: the script also restarts a service that answers but can no longer start containers.
   */
  setUpPodman?: () => Promise<boolean>;
  log?: (line: string) => void;
}

/**
 * Finds a container runtime: DOCKER_HOST if set, else Docker's socket, else Podman's (started, and kept
 * able to start containers, by infra/podman/setup.sh, which installs it when missing, where we may).
 * Returns the reasons when there is none.
 */
export async function detectContainerRuntime(
  options: DetectOptions = {},
): Promise<ContainerRuntime | { unavailable: string[] }> {
  const env = options.env ?? process.env;
  const ask = options.ask ?? askSocket;
  const reasons: string[] = [];
  const candidates = env.DOCKER_HOST ? [env.DOCKER_HOST] : [DOCKER_SOCKET, PODMAN_SOCKET];
  let found: ContainerRuntime | undefined;
  for (const host of candidates) {
    found = await identifyRuntime(host, ask);
    if (found) break;
    reasons.push(`nothing answers the Docker API on ${host}`);
  }
  const setUp = env.DOCKER_HOST ? undefined : options.setUpPodman;
  if (!setUp || (found && found.dockerHost !== PODMAN_SOCKET)) return found ?? { unavailable: reasons };
  // Where it cannot run (not root) or fails (it says why), the Podman that answers is still tried.
  const ready = await setUp();
  const runtime = ready ? await identifyRuntime(PODMAN_SOCKET, ask) : found;
  if (runtime) return runtime;
  reasons.push(
    ready
      ? `infra/podman/setup.sh ran, but nothing answers on ${PODMAN_SOCKET}`
      : 'Podman could not be set up (infra/podman/setup.sh: not root, no apt-get, or it failed)',
  );
  return { unavailable: reasons };
}

/** Runs one of infra/podman's scripts, its output to our stderr; true when it exits 0. */
export function runInfraScript(
  script: 'setup.sh' | 'build-images.sh',
  log: (line: string) => void = () => undefined,
): Promise<boolean> {
  const path = join(REPO_ROOT, 'infra/podman', script);
  if (!existsSync(path)) {
    log(`conformance: ${path} is missing`);
    return Promise.resolve(false);
  }
  log(`conformance: running infra/podman/${script} ...`);
  return new Promise((resolve) => {
    const child = spawn('bash', [path], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('exit', (code) => resolve(code === 0));
    child.once('error', () => resolve(false));
  });
}

/**
 * Rootful Podman is set up (installed from Debian's packages first, when missing) only where we are
 * root and Podman or apt-get is there: a fresh machine gets the container path, not only the jar.
 */
export async function setUpPodmanAsRoot(log: (line: string) => void): Promise<boolean> {
  if (process.getuid?.() !== 0) return false;
  const succeeds = (command: string, args: string[]) =>
    new Promise<boolean>((resolve) => {
      const child = spawn(command, args, { stdio: 'ignore' });
      child.once('exit', (code) => resolve(code === 0));
      child.once('error', () => resolve(false));
    });
  const possible = (await succeeds('podman', ['--version'])) || (await succeeds('apt-get', ['--version']));
  return possible && runInfraScript('setup.sh', log);
}

/** The version of our launcher (infra/hapi-fhir/pom.xml), which tags our image. */
export function localImageVersion(): string {
  const pom = readFileSync(join(HAPI_DIR, 'pom.xml'), 'utf8');
  const version = /^ {2}<version>([^<]+)<\/version>/m.exec(pom)?.[1];
  if (!version) throw new Error('cannot read the project version from infra/hapi-fhir/pom.xml');
  return version;
}

/** True when the runtime has `image` locally. */
export async function hasImage(runtime: ContainerRuntime, image: string, ask: Ask = askSocket): Promise<boolean> {
  const answer = await ask(runtime.dockerHost, `/images/${encodeURIComponent(image)}/json`);
  return answer?.status === 200;
}

export { REPO_ROOT };
