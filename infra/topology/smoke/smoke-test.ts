/**
 * The production topology, run for real: builds the images (from cache when present), brings the
 * compose topology up with Podman, runs the API guide's cross-region case (docs/api.md, from
 * discovery to the GP receiving the report) through the real services on HAPI and PostgreSQL,
 * checks HAPI's rows in PostgreSQL per partition, runs the operator's guide's commands
 * (docs/operations.md) with its backup, writes once more, and restarts everything once, as the guide's
 * real restore does (`down`, PostgreSQL alone, `pg_restore`, `up`): nothing was lost across `down`,
 * the restore brings back exactly the backup, and the API serves it. Then it tears down what it made,
 * and only that. Every command's output is kept in one log, which must not show the database password.
 *
 *   sudo sh infra/toolchain/with-node24.sh node infra/topology/smoke/smoke-test.ts [--keep]
 *
 * Needs root (rootful Podman): it runs infra/podman/setup.sh when podman-compose is missing.
 */
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import {
  appendFileSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { devClientKey, devTokenSource, signClientAssertion, type TokenSource, tokenEndpointOf } from '@imaging/auth';
import type { GuideRun } from '@imaging/demo/api-guide';
import { parseGuide, runExample, urlMap } from '@imaging/demo/api-guide';
import { type CommandTarget, operationsCommands, restoreSteps, runBlock } from './operations-doc.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const TOPOLOGY = join(REPO, 'infra/topology');
const HUB = 'http://127.0.0.1:4000';
const PORTS = [4000, 4101, 4102, 4103];
/** The API guide's sections that make one cross-region case: north orders from midlands, and gets the report. */
const LAST_SECTION = 'The GP receives the result';
/** A patient the GP registers after the backup: the restore must take it away. Not one of docs/api.md's. */
const LATE_NHS_NUMBER = '9990000042';

const keep = process.argv.includes('--keep');
const started = performance.now();
const project = `imaging-smoke-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'imaging-smoke-'));
const log = join(REPO, 'reports/topology-smoke.log');
mkdirSync(join(REPO, 'reports'), { recursive: true });
writeFileSync(log, '');

const say = (text: string) => {
  process.stdout.write(`topology: ${text} (${Math.round((performance.now() - started) / 1000)} s)\n`);
  appendFileSync(log, `## ${text}\n`);
};

/** Runs a command, its output into the log (never to the console); its stdout, or a throw naming the command. */
function run(
  command: string,
  args: string[],
  options: { allowFail?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  const result = spawnSync(command, args, {
    cwd: options.cwd ?? REPO,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...options.env },
  });
  appendFileSync(log, `$ ${command} ${args.join(' ')}\n${result.stdout ?? ''}${result.stderr ?? ''}\n`);
  if (result.status !== 0 && !options.allowFail)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}; see ${log}`);
  return { ok: result.status === 0, out: result.stdout ?? '' };
}

const compose = (...args: string[]) =>
  run('podman-compose', ['-p', project, '-f', join(work, 'compose.yaml'), ...args]);
const container = (service: string) => `${project}_${service}_1`;
const sql = (query: string) =>
  run('podman', [
    'exec',
    container('postgres'),
    'sh',
    '-c',
    `PGPASSWORD=$(cat /run/secrets/db-password) psql -h 127.0.0.1 -U hapi -d hapi -At -c "${query}"`,
  ]).out.trim();

async function waitHealthy(timeoutS: number) {
  const deadline = performance.now() + timeoutS * 1000;
  for (const port of PORTS) {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (performance.now() > deadline) throw new Error(`127.0.0.1:${port}/health not ok after ${timeoutS} s`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

/** Every live resource HAPI holds, as `<partition> <type>/<id>` (what `down` and `up` must not lose). */
const storedResources = () =>
  new Set(
    sql(
      "select p.part_name || ' ' || r.res_type || '/' || r.fhir_id from hfj_resource r join hfj_partition p on p.part_id = r.partition_id where r.res_deleted_at is null",
    )
      .split('\n')
      .filter(Boolean),
  );

/** The number of resources per partition in a set of `<partition> <type>/<id>`. */
function perPartition(resources: Set<string>) {
  const counts: Record<string, number> = {};
  for (const r of [...resources].sort()) {
    const partition = r.slice(0, r.indexOf(' '));
    counts[partition] = (counts[partition] ?? 0) + 1;
  }
  return counts;
}

/** The members of `a` that `b` lacks. */
const missingFrom = (a: Set<string>, b: Set<string>) => [...a].filter((r) => !b.has(r));

/** A client on the host: its key from the credentials volume the hub made, its token from the hub's public URL. */
function hostClients() {
  const keys = run('podman', ['volume', 'inspect', `${project}_credentials`, '--format', '{{.Mountpoint}}']).out.trim();
  const dataDir = join(work, 'client-data');
  mkdirSync(dataDir, { recursive: true });
  symlinkSync(keys, join(dataDir, 'keys'));
  const tokens = new Map<string, TokenSource>();
  return {
    /** A client assertion for the hub's token endpoint, as a client on the host signs it. */
    async assertion(clientId: string) {
      return signClientAssertion({
        tokenUrl: tokenEndpointOf(HUB),
        clientId,
        ...(await devClientKey(clientId, dataDir)),
      });
    },
    async token(clientId: string) {
      let source = tokens.get(clientId);
      if (!source) {
        source = await devTokenSource(clientId, { hubUrl: HUB, dataDir });
        tokens.set(clientId, source);
      }
      return source.getToken();
    },
  };
}

async function runGuide(clients: ReturnType<typeof hostClients>, values: Map<string, string>) {
  const examples = parseGuide(readFileSync(join(REPO, 'docs/api.md'), 'utf8'));
  const sections = [...new Set(examples.map((e) => e.section))];
  const last = sections.indexOf(LAST_SECTION);
  if (last < 0) throw new Error(`docs/api.md has no section '${LAST_SECTION}'`);
  const guideRun: GuideRun = {
    values,
    // The guide is written for the development ports, which are the compose topology's published ones.
    urls: urlMap(PORTS.map((p) => [`http://127.0.0.1:${p}`, `http://127.0.0.1:${p}`])),
    async dynamic(name) {
      const [, kind, client] = /^(TOKEN|ASSERTION)_([A-Z0-9_]+)$/.exec(name) ?? [];
      if (!kind || !client) return undefined;
      const clientId = client.toLowerCase().replaceAll('_', '-');
      return kind === 'TOKEN' ? clients.token(clientId) : clients.assertion(clientId);
    },
  };
  let count = 0;
  for (const example of examples.filter((e) => sections.indexOf(e.section) <= last)) {
    const { actual, problems } = await runExample(example, guideRun);
    appendFileSync(log, `${example.request.method} ${example.request.url} → ${actual.status}\n`);
    if (problems.length)
      throw new Error(
        `docs/api.md line ${example.line} (${example.request.method} ${example.request.url}):\n  ${problems.join('\n  ')}\nanswered: ${JSON.stringify(actual.body).slice(0, 2000)}`,
      );
    count++;
  }
  return count;
}

/** Follows a link the gateway gave: a client on the host must reach it. */
async function follow(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url} (a link a client received) answered ${res.status}`);
  return (await res.json()) as { resourceType: string; id?: string };
}

/**
 * A request to a gateway as a client on the host, on a connection of its own; its status and JSON body.
 * Not fetch's pooled connections: the commands before it run synchronously (spawnSync), and fetch sent
 * on a keep-alive socket the gateway had closed meanwhile ("other side closed").
 */
function call(method: string, url: string, token: string, body?: unknown) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<{ status: number; body: { resourceType: string; id?: string } }>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        timeout: 30_000,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/fhir+json',
          ...(payload ? { 'content-type': 'application/fhir+json' } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
          } catch {
            reject(new Error(`${method} ${url} answered ${res.statusCode}, not JSON: ${text.slice(0, 200)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in 30 s')));
    req.on('error', (err) => reject(new Error(`${method} ${url}: ${err.message}`)));
    req.end(payload);
  });
}

/** Registers the late patient with the north gateway (docs/api.md, "Registering a patient"). */
const registerLatePatient = (token: string) =>
  call('POST', 'http://127.0.0.1:4101/fhir/Patient', token, {
    resourceType: 'Patient',
    identifier: [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: LATE_NHS_NUMBER }],
    name: [{ use: 'official', family: 'Testpatient', given: ['Late'] }],
    gender: 'unknown',
    birthDate: '1970-01-01',
  });

function assertSame(label: string, before: unknown, after: unknown) {
  if (JSON.stringify(before) !== JSON.stringify(after))
    throw new Error(`${label}: before ${JSON.stringify(before)}, after ${JSON.stringify(after)}`);
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error('run as root: the topology runs on rootful Podman');
  for (const port of PORTS) {
    const busy = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) }).then(
      () => true,
      () => false,
    );
    if (busy) throw new Error(`127.0.0.1:${port} is in use: the topology publishes its services there`);
  }
  if (!run('sh', ['-c', 'command -v podman-compose'], { allowFail: true }).ok) {
    say('installing Podman and podman-compose (infra/podman/setup.sh)');
    run('infra/podman/setup.sh', []);
  }
  say('building the images (from cache when present)');
  run('infra/podman/build-images.sh', []);

  // A copy of the compose directory of its own: its secrets, and nothing of an operator's.
  for (const f of ['compose.yaml', 'topology.json']) copyFileSync(join(TOPOLOGY, f), join(work, f));
  run('infra/topology/scripts/make-secrets.sh', [join(work, '.secrets')]);
  const password = readFileSync(join(work, '.secrets/db-password'), 'utf8').trim();

  say(`up (project ${project})`);
  compose('up', '-d');
  await waitHealthy(900);
  say('healthy');

  const clients = hostClients();
  const values = new Map<string, string>();
  const examples = await runGuide(clients, values);
  say(`docs/api.md: ${examples} examples, discovery to the GP receiving the report, passed`);

  // Links clients receive resolve from the host: the fullUrl of a search result, and the report.
  const gp = await clients.token('gp-n81001');
  const search = (await follow(`http://127.0.0.1:4101/fhir/Task?_id=${values.get('TASK_ID')}`, gp)) as unknown as {
    entry?: { fullUrl: string }[];
  };
  const fullUrl = search.entry?.[0]?.fullUrl;
  if (!fullUrl?.startsWith('http://127.0.0.1:4101/fhir/Task/')) throw new Error(`fullUrl ${fullUrl} is not public`);
  const task = await follow(fullUrl, gp);
  say(`fullUrl ${fullUrl} followed from the host: ${task.resourceType}/${task.id}`);

  // The locator's pointer for the report, registered at the hub by the midlands.
  const pointers = Number(
    sql(
      "select count(*) from hfj_resource r join hfj_partition p on p.part_id = r.partition_id where p.part_name = 'hub' and r.res_type = 'DocumentReference'",
    ),
  );
  if (pointers < 1) throw new Error('no locator pointer (DocumentReference) in the hub partition');
  say(`locator: ${pointers} pointer(s) at the hub`);

  const beforeBackup = storedResources();
  const rows = perPartition(beforeBackup);
  say(`PostgreSQL: hfj_resource rows ${JSON.stringify(rows)}`);
  for (const p of ['hub', 'north', 'midlands']) if (!rows[p]) throw new Error(`no rows in HAPI partition ${p}`);

  // The guide's commands, its backup among them, into this run's directory (backups/hapi.dump). The
  // services keep running, and may write while the dump is taken: what it holds lies between the two.
  const target: CommandTarget = { project, composeFile: join(work, 'compose.yaml'), cwd: work, run };
  const ran = operationsCommands(target);
  const afterBackup = storedResources();
  say(`docs/operations.md: ${ran} commands ran, the backup taken`);

  // Written after the backup: it must survive `down`, and the restore must take it away.
  // With the token already held: a token request now would go through fetch's pool (see call).
  const late = await registerLatePatient(gp);
  if (late.status !== 201 || !late.body.id) throw new Error(`registering the late patient answered ${late.status}`);
  const lateResource = `north Patient/${late.body.id}`;
  const written = storedResources();
  if (!written.has(lateResource)) throw new Error(`${lateResource} is not in PostgreSQL`);

  // One restart, as the guide's real restore does it: down, PostgreSQL alone, pg_restore, up.
  const steps = restoreSteps();
  say('down, then PostgreSQL alone (docs/operations.md, restore)');
  runBlock(steps.stop, target);
  // Nothing lost across down, in the volume. There may be more: on the way down a gateway stores the
  // records of reads it was still holding.
  const survived = storedResources();
  const lost = missingFrom(written, survived);
  if (lost.length) throw new Error(`lost across down: ${lost.slice(0, 10).join(', ')} (${lost.length} in all)`);
  say(`nothing lost across down: all ${written.size} resources, the late patient among them, still in PostgreSQL`);

  runBlock(steps.restore, target);
  // Exactly the backup: all that was stored before the dump began, nothing that was not there when it ended.
  const restored = storedResources();
  const notRestored = missingFrom(beforeBackup, restored);
  const notInBackup = missingFrom(restored, afterBackup);
  if (notRestored.length || notInBackup.length)
    throw new Error(
      `the restore is not the backup: missing ${notRestored.slice(0, 5).join(', ') || 'none'}, extra ${notInBackup.slice(0, 5).join(', ') || 'none'}`,
    );
  assertSame('the late patient after the restore', false, restored.has(lateResource));
  say(
    `restored: ${restored.size} resources ${JSON.stringify(perPartition(restored))}, as at the backup ` +
      `(${beforeBackup.size} before it, ${afterBackup.size} after); ${survived.size - restored.size} written since, gone`,
  );

  say('up');
  runBlock(steps.start, target);
  await waitHealthy(900);
  const gpAgain = await clients.token('gp-n81001');
  const again = await follow(fullUrl, gpAgain);
  assertSame('the Task after the restore', task.id, again.id);
  const gone = await call('GET', `http://127.0.0.1:4101/fhir/Patient/${late.body.id}`, gpAgain);
  assertSame(`GET Patient/${late.body.id} (written after the backup) after the restore`, 404, gone.status);
  // The region no longer knows the late patient (201, not 200), and takes a new write.
  const anew = await registerLatePatient(gpAgain);
  assertSame('registering the late patient again after the restore', 201, anew.status);
  say(
    `the API serves the restored case (Task/${again.id}), not the late patient, and registers it anew ` +
      `(Patient/${anew.body.id}; before the restore Patient/${late.body.id})`,
  );

  const logText = readFileSync(log, 'utf8');
  if (password.length < 16 || logText.includes(password)) throw new Error(`the database password appears in ${log}`);
  say('the database password appears in none of the output');
}

function teardown() {
  if (keep) return say(`kept: project ${project}, compose file ${join(work, 'compose.yaml')}`);
  compose('down', '-v');
  // podman-compose 1.0.3 leaves the network; it is this project's own.
  run('podman', ['network', 'rm', '-f', `${project}_default`], { allowFail: true });
  rmSync(work, { recursive: true, force: true });
  say('torn down: containers, volumes, network and secrets of this run');
}

// Stopped from outside (Ctrl-C, a CI timeout): still remove what this run made, and only that.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    process.stderr.write(`topology: ${signal}: tearing down\n`);
    teardown();
    process.exit(code);
  });
}

try {
  await main();
  teardown();
  say('passed');
} catch (err) {
  // A network error's reason is in its cause (fetch says only "fetch failed").
  const cause = (err as Error).cause as Error | undefined;
  process.stderr.write(`topology: FAILED: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}\n`);
  try {
    for (const s of ['hub', 'gateway-north', 'gateway-midlands', 'hapi'])
      run('podman', ['logs', '--tail', '40', container(s)], { allowFail: true });
  } finally {
    teardown();
  }
  process.exitCode = 1;
}
