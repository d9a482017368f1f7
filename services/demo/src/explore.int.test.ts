import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { devClientKey, devTokenSource, signClientAssertion, tokenEndpointOf } from '@imaging/auth';
import type { TokenSource } from '@imaging/auth';
import { isPortFree } from '@imaging/service-process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuideExample, GuideRun } from './api-guide.ts';
import { parseGuide, renderResponse, rewriteResponses, runExample, urlMap } from './api-guide.ts';
import { DEFAULT_PORT_BASE } from './options.ts';
import { freePortBase, REPO_ROOT } from './world.ts';

// The topology as docs/api.md tells an integration engineer to start it: `npm run demo -- --no-scenario`,
// through npm, pnpm and the toolchain script, as real processes on free ports with a data dir of its own.
// What it prints must run from the repo root with npm alone, every example of the guide must answer as
// the guide shows, and Ctrl-C must end it quietly. `UPDATE_API_GUIDE=1` writes the guide's responses
// again from this run: each must still have the status the guide shows and the values it checks.
const run = promisify(execFile);
const GUIDE_FILE = join(REPO_ROOT, 'docs/api.md');
const UPDATE = process.env.UPDATE_API_GUIDE === '1';
const guide = readFileSync(GUIDE_FILE, 'utf8');
const examples = parseGuide(guide);
const sections = [...new Set(examples.map((e) => e.section))];

/** The environment of a shell an engineer opened: none of the test runner's npm or pnpm settings. */
const shellEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_|INIT_CWD$|IMAGING_)/i.test(key)),
);

let portBase = 0;
const relativeDataDir = `.data/explore-test-${randomUUID().slice(0, 8)}`;
const dataDir = join(REPO_ROOT, relativeDataDir);
const hubUrl = () => `http://127.0.0.1:${portBase}`;
/** Services this test started itself, from the README's commands. */
const started: ChildProcess[] = [];
let demo: ChildProcess;
let out = '';
let err = '';
let exited: Promise<number | string | null>;

beforeAll(async () => {
  portBase = await freePortBase();
  demo = spawn(
    'npm',
    ['run', 'demo', '--', '--no-scenario', '--port-base', String(portBase), '--data-dir', dataDir],
    // Its own process group, so that a SIGINT to the group is a Ctrl-C in the terminal it was started from.
    { cwd: REPO_ROOT, env: shellEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  demo.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  demo.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString();
  });
  exited = new Promise((resolve) => demo.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = await Promise.race([
    exited.then(() => false),
    (async () => {
      while (!out.includes('Every request of the API')) await new Promise((resolve) => setTimeout(resolve, 100));
      return true;
    })(),
  ]);
  if (!ready) throw new Error(`the demo ended before it was ready:\n${out}\n${err}`);
}, 240_000);

afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
  if (demo.exitCode === null && demo.signalCode === null && demo.pid) {
    process.kill(-demo.pid, 'SIGKILL');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm run demo -- --no-scenario, as the guide starts it', () => {
  it('prints commands that run as printed, from the repo root, with npm alone', async () => {
    const printed = out.slice(out.indexOf('Get a token')).split('\n');
    expect(printed.join('\n')).not.toContain('pnpm');
    expect(printed.map((line) => line.trim())).toContain(
      `export IMAGING_DATA_DIR=${relativeDataDir} IMAGING_TOPOLOGY=${relativeDataDir}/topology.json`,
    );
    expect(await runRecipe(printed)).toBeGreaterThanOrEqual(4);
  });

  it("runs the README's token recipe as written, with the demo's data dir and ports", async () => {
    const recipe = readmeBlock('## Tokens and calling the API').map(onThisTopology);
    expect(await runRecipe(recipe)).toBe(2);
  });

  describe('docs/api.md: every example, in order, against it', () => {
    const values = new Map<string, string>();
    const tokens = new Map<string, TokenSource>();
    const written: { example: GuideExample; lines: string[] }[] = [];
    const clientOf = (name: string) => name.toLowerCase().replaceAll('_', '-');
    // Made when asked, once the topology's ports are known.
    const guideRun = (): GuideRun => ({
      values,
      urls: urlMap(
        [0, 101, 102, 103].map((offset) => [
          `http://127.0.0.1:${DEFAULT_PORT_BASE + offset}`,
          `http://127.0.0.1:${portBase + offset}`,
        ]),
      ),
      async dynamic(name) {
        const [, kind, client] = /^(TOKEN|ASSERTION)_([A-Z0-9_]+)$/.exec(name) ?? [];
        if (!kind || !client) return undefined;
        const clientId = clientOf(client);
        if (kind === 'ASSERTION') {
          const key = await devClientKey(clientId, dataDir);
          return signClientAssertion({ tokenUrl: tokenEndpointOf(hubUrl()), clientId, ...key });
        }
        let source = tokens.get(clientId);
        if (!source) {
          source = await devTokenSource(clientId, { hubUrl: hubUrl(), dataDir });
          tokens.set(clientId, source);
        }
        return source.getToken();
      },
    });

    afterAll(() => {
      if (UPDATE && written.length === examples.length) writeFileSync(GUIDE_FILE, rewriteResponses(guide, written));
    });

    it.each(sections)('%s', async (section) => {
      for (const example of examples.filter((e) => e.section === section)) {
        const { actual, problems } = await runExample(example, guideRun(), UPDATE ? 'update' : 'check');
        const request = `${example.request.method} ${example.request.url} (docs/api.md line ${example.line})`;
        expect(problems, `${request} answered:\n${JSON.stringify(actual.body, null, 2)}`).toEqual([]);
        if (UPDATE) written.push({ example, lines: renderResponse(example, actual, values) });
      }
    });
  });

  it("stops and restarts one service on its own with the README's commands, page links still good", async () => {
    const gp = await devTokenSource('gp-n81001', { hubUrl: hubUrl(), dataDir });
    const northUrl = `http://127.0.0.1:${portBase + 101}`;
    const search = async (url: string) =>
      fetch(url, { headers: { Authorization: `Bearer ${await gp.getToken()}` } }).then(async (res) => ({
        status: res.status,
        bundle: (await res.json()) as { total?: number; link?: { relation: string; url: string }[] },
      }));
    const first = await search(`${northUrl}/fhir/ServiceRequest?_count=1`);
    const next = first.bundle.link?.find((l) => l.relation === 'next')?.url as string;
    expect(next).toContain('_page=');

    const commands = readmeBlock('### Running one service').join('\n').replaceAll('\\\n', '').split('\n');
    const [gatewayCommand, hubCommand] = commands.filter((line) => line.includes('main.ts'));
    // The demo's own processes, as its timeline names them: `started hub (pid …), north (pid …), …`.
    const pids = Object.fromEntries([...out.matchAll(/(\w+) \(pid (\d+)\)/g)].map((m) => [m[1], Number(m[2])]));
    for (const [name, command, port] of [
      ['hub', `PORT=${portBase} ${hubCommand}`, portBase],
      [
        'north',
        (gatewayCommand as string).replace('PORT=4101', `PORT=${portBase + 101} HUB_URL=${hubUrl()}`),
        portBase + 101,
      ],
    ] as const) {
      process.kill(pids[name] as number, 'SIGTERM');
      await until(() => isPortFree(port, '127.0.0.1'), `the demo's ${name} to stop`);
      started.push(
        spawn('sh', ['-c', onThisTopology(command)], {
          cwd: REPO_ROOT,
          env: shellEnv,
          detached: true,
          stdio: 'ignore',
        }),
      );
      await until(
        () =>
          fetch(`http://127.0.0.1:${port}/health`).then(
            (res) => res.ok,
            () => false,
          ),
        `the ${name} started from the README's command to answer /health`,
      );
    }
    gp.invalidate();
    const second = await search(next);
    expect(second.status).toBe(200);
    expect(second.bundle.total).toBe(first.bundle.total);
    // Stopped as they were started: the whole process group, and done once the service has let go of its port.
    for (const child of started.splice(0)) process.kill(-(child.pid as number), 'SIGTERM');
    for (const port of [portBase, portBase + 101]) await until(() => isPortFree(port, '127.0.0.1'), `port ${port}`);
  });

  it('ends on Ctrl-C with exit code 0, quietly: nothing from pnpm, every port free', async () => {
    process.kill(-(demo.pid as number), 'SIGINT');
    expect(await exited, `${out}\n${err}`).toBe(0);
    expect(`${out}${err}`).not.toMatch(/ERR_PNPM|ELIFECYCLE|Command failed/);
    expect(out).toContain('SIGINT: stopping the hub and the gateways');
    for (const offset of [0, 101, 102, 103]) expect(await isPortFree(portBase + offset, '127.0.0.1')).toBe(true);
  });
});

/** The lines of the first `sh` block after a README heading. */
function readmeBlock(heading: string): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf('```sh\n', readme.indexOf(`\n${heading}\n`)) + '```sh\n'.length;
  return readme.slice(from, readme.indexOf('\n```', from)).split('\n');
}

/** A README command for the default demo (`.data/demo`, ports 4000 and 4101-4103), moved to this one. */
function onThisTopology(line: string): string {
  return [0, 101, 102, 103].reduce(
    (text, offset) => text.replaceAll(`127.0.0.1:${DEFAULT_PORT_BASE + offset}`, `127.0.0.1:${portBase + offset}`),
    line.replaceAll('.data/demo', relativeDataDir),
  );
}

/**
 * Runs a recipe as an engineer pastes it, from the repo root: its `export`, each `TOKEN=$(…)` and each
 * `curl` (with fetch where curl is not installed). Every call must answer a Bundle or a
 * CapabilityStatement; returns how many calls it made.
 */
async function runRecipe(lines: string[]): Promise<number> {
  const sh = (script: string, env: Record<string, string> = {}) =>
    run('sh', ['-c', script], { cwd: REPO_ROOT, env: { ...shellEnv, ...env } });
  const hasCurl = await sh('command -v curl').then(
    () => true,
    () => false,
  );
  const exportLine = lines.map((line) => line.trim()).find((line) => line.startsWith('export '));
  let token = '';
  let calls = 0;
  for (const line of lines.map((l) => l.trim())) {
    if (line.startsWith('TOKEN=$(')) {
      const { stdout, stderr } = await sh(`${exportLine ?? ''}\n${line}\nprintf %s "$TOKEN"`);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      token = stdout;
    } else if (line.startsWith('curl ')) {
      const body = hasCurl ? (await sh(line, { TOKEN: token })).stdout : await fetchAsCurl(line, token);
      const resource = JSON.parse(body) as { resourceType?: string };
      expect(['Bundle', 'CapabilityStatement'], `${line} answered ${body.slice(0, 300)}`).toContain(
        resource.resourceType,
      );
      calls++;
    }
  }
  return calls;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A printed curl line sent with fetch, where curl is not installed: its URL and its one header. */
async function fetchAsCurl(line: string, token: string): Promise<string> {
  const url = /'(http[^']+)'/.exec(line)?.[1] as string;
  const auth = line.includes('Authorization: Bearer $TOKEN') ? { Authorization: `Bearer ${token}` } : {};
  return (await fetch(url, { headers: auth })).text();
}
