import type { AttackCase, Family } from './cases/case.ts';
import type { Finding } from './checker.ts';
import { caseProblems, forbiddenMarkers, inspectAnswer } from './checker.ts';
import type { Snapshot } from './snapshot.ts';
import { snapshotDifferences } from './snapshot.ts';
import type { AttackRequest, AttackSurface, ServiceName } from './surface.ts';
import type { AttackWorld } from './world.ts';

/** What a run sent and found, for the record. */
export interface Tally {
  requests: number;
  byFamily: Partial<Record<Family, number>>;
  serverErrors: number;
  leaks: number;
  internalDetails: number;
  writesFromRefused: number;
  unexpectedStatuses: number;
  findings: number;
}

export function emptyTally(): Tally {
  return {
    requests: 0,
    byFamily: {},
    serverErrors: 0,
    leaks: 0,
    internalDetails: 0,
    writesFromRefused: 0,
    unexpectedStatuses: 0,
    findings: 0,
  };
}

const READS = new Set(['GET', 'HEAD']);

/**
 * Runs cases one by one and checks every answer (`inspectAnswer`). The stores are snapshotted around every
 * write and around every run of reads between them: a difference is a finding unless it follows a success
 * that may write. Returns the findings (none, for services that hold) and adds to `tally`.
 */
export async function runCases(
  surface: AttackSurface,
  world: AttackWorld,
  cases: readonly AttackCase[],
  tally: Tally = emptyTally(),
): Promise<Finding[]> {
  const findings: Finding[] = [];
  let last: Snapshot = await surface.snapshot();
  /** The cases answered since `last`, with whether each was refused. */
  let span: { where: string; refused: boolean; mayWrite: boolean }[] = [];

  const settle = async () => {
    if (span.length === 0) return;
    const now = await surface.snapshot();
    const changes = snapshotDifferences(last, now);
    const [only] = span;
    const allowed = span.length === 1 && only && !only.refused && only.mayWrite;
    if (changes.length && !allowed) {
      for (const c of span) {
        findings.push({ kind: 'write', where: c.where, detail: changes.join('; ') });
        if (c.refused) tally.writesFromRefused++;
      }
    }
    last = now;
    span = [];
  };

  for (const attack of cases) {
    const where = `${attack.family}: ${attack.name}`;
    const request = await attack.request(world);
    const writes = !READS.has(request.method);
    if (writes) await settle();
    const text = requestText(request);
    const caller = surface.identity(attack.credential);
    findings.push(...caseProblems(where, text, forbiddenMarkers(surface.markers, caller, attack.service)));
    const answer = await surface.send(attack.service, request, await surface.authorization(attack.credential));
    tally.requests++;
    tally.byFamily[attack.family] = (tally.byFamily[attack.family] ?? 0) + 1;
    const found = inspectAnswer(
      {
        where,
        service: attack.service,
        request: text,
        fhir: answersOutcomes(request.path),
        expect: attack.expect,
        caller,
      },
      answer,
      surface.markers,
      surface.internals,
    );
    findings.push(...found);
    span.push({ where, refused: answer.status >= 400, mayWrite: !!attack.mayWrite });
    if (writes) await settle();
  }
  await settle();

  for (const f of findings) {
    if (f.kind === 'server-error') tally.serverErrors++;
    if (f.kind === 'leak') tally.leaks++;
    if (f.kind === 'internal-detail') tally.internalDetails++;
    if (f.kind === 'unexpected-status') tally.unexpectedStatuses++;
  }
  tally.findings += findings.length;
  return findings;
}

/** Paths whose errors must be OperationOutcomes: the FHIR API, and the gateways' event feed beside it. */
function answersOutcomes(path: string): boolean {
  return path.startsWith('/fhir') || path === '/events' || path.startsWith('/events?');
}

/** The request as the checker sees it: what an answer may fairly echo. */
function requestText(request: AttackRequest): string {
  const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? '');
  return `${request.method} ${request.path}\n${JSON.stringify(request.headers ?? {})}\n${body}`;
}

/**
 * After the attacks: every service answers `/health` with 200, every probe (a legitimate request) still
 * answers as before and shows its caller's own data, and no request managed to pollute Object.prototype.
 */
export async function checkHealth(surface: AttackSurface, services: readonly ServiceName[]): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const service of services) {
    const answer = await surface.send(service, { method: 'GET', path: '/health' }, undefined);
    if (answer.status !== 200)
      findings.push({ kind: 'unhealthy', where: `${service} /health`, detail: `${answer.status}: ${answer.text}` });
  }
  for (const probe of surface.probes) {
    const answer = await surface.send(probe.service, probe.request, await surface.authorization(probe.credential));
    const where = `probe: ${probe.name}`;
    if (answer.status !== probe.status) {
      findings.push({
        kind: 'unhealthy',
        where,
        detail: `${answer.status}, expected ${probe.status}: ${answer.text.slice(0, 300)}`,
      });
      continue;
    }
    for (const text of probe.shows ?? []) {
      if (!answer.text.includes(text)) findings.push({ kind: 'unhealthy', where, detail: `does not show ${text}` });
    }
    const caller = surface.identity(probe.credential);
    for (const m of forbiddenMarkers(surface.markers, caller, probe.service)) {
      if (answer.text.includes(m.text)) findings.push({ kind: 'leak', where, detail: `shows ${m.what}` });
    }
  }
  const polluted = Object.keys(Object.prototype);
  if (polluted.length)
    findings.push({ kind: 'unhealthy', where: 'Object.prototype', detail: `has ${polluted.join(', ')}` });
  return findings;
}
