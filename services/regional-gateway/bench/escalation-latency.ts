// How long after its due time an alert escalates, with the real job runner (startJobs) on the embedded
// store, on the system clock. N CRITICAL alerts fall due over a spread of a few seconds, among many alerts
// that are not due (they are never read: the job searches the next-check index); the latency of each is
// the time of its escalation's AuditEvent minus its due time. It is bounded by SAFETY_INTERVAL plus the
// cost of one pass.
//
// Run: node services/regional-gateway/bench/escalation-latency.ts [alerts=200] [intervalMs=250] [spreadMs=5000] [background=2000]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent, DiagnosticReport, Patient } from '@medplum/fhirtypes';
import { CODE_SYSTEMS, odsReference, searchAll, SqliteStore, validatingStore } from '@imaging/fhir';
import { exampleDiagnosticReport, examplePatient } from '@imaging/fhir/examples';
import type { NewAlert } from '../src/domain/alert-task.ts';
import { alertTask, withNextCheck } from '../src/domain/alert-task.ts';
import { startJobs } from '../src/jobs.ts';
import { testRegions } from '../src/testing/regions.ts';

const [alerts, intervalMs, spreadMs, background] = [200, 250, 5000, 2000].map((fallback, i) =>
  Number(process.argv[2 + i] ?? fallback),
) as [number, number, number, number];

const dir = mkdtempSync(join(tmpdir(), 'escalation-bench-'));
const store = validatingStore(new SqliteStore({ path: join(dir, 'north.sqlite'), synchronous: 'NORMAL' }));
// The test kit's regions with its directory stand-in, on the system clock and a file store.
const systemTime = { now: () => new Date(), advance: () => undefined };
const north = testRegions(systemTime).open('north', store);
const quiet = { info: () => undefined, warn: () => undefined, error: console.error };
const deps = { ...north, logger: quiet };

const patient = (await store.create<Patient>(examplePatient())).resource;
const report = (
  await store.create<DiagnosticReport>(exampleDiagnosticReport({ subject: { reference: `Patient/${patient.id}` } }))
).resource;

function alert(i: number, dueAt: Date): NewAlert {
  const now = new Date();
  return withNextCheck<NewAlert>(
    {
      kind: 'acknowledge-result',
      identifier: `BENCH-${i}-acknowledge`,
      correlationId: `bench-${i}`,
      category: 'CRITICAL',
      report: { reference: `DiagnosticReport/${report.id}` },
      order: { reference: 'ServiceRequest/bench' },
      patient: { reference: `Patient/${patient.id}` },
      owner: odsReference('N81001'),
      ownerOrganisation: 'N81001',
      performer: 'RM1',
      raisedAt: now,
      acknowledgementDueAt: dueAt,
      state: 'raised',
      step: 'requester',
      stepDueAt: dueAt,
      recipients: [odsReference('N81001')],
      lastModified: now,
    },
    deps.alerts.notificationLeaseMs,
  );
}

// Alerts that are not due for a day: history the job must not pay for.
const later = new Date(Date.now() + 86_400_000);
for (let i = 0; i < background; i++) await store.create(alertTask(alert(-i - 1, later)));

const start = Date.now() + 1_000;
const due = new Map<string, number>();
for (let i = 0; i < alerts; i++) {
  const dueAt = new Date(start + Math.floor((i * spreadMs) / alerts));
  const { resource } = await store.create(alertTask(alert(i, dueAt)));
  due.set(`Task/${resource.id}`, dueAt.getTime());
}

const escalated = { subtype: `${CODE_SYSTEMS.auditSubtype}|alert-escalated` };
const jobs = startJobs(deps, { deliveryIntervalMs: 3_600_000, safetyIntervalMs: intervalMs });
// Counted once a second, cheaply, so the bench itself hardly loads the store it measures.
const deadline = start + spreadMs + 30_000;
while (Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  if (((await store.search('AuditEvent', { ...escalated, _summary: 'count' })).total ?? 0) >= alerts) break;
}
await jobs.stop();
const events = await searchAll<AuditEvent>(store, 'AuditEvent', escalated);

const latencies = events
  .map((e) => {
    const task = e.entity?.find((x) => x.what?.reference?.startsWith('Task/'))?.what?.reference as string;
    return Date.parse(e.recorded) - (due.get(task) as number);
  })
  .sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
console.log(
  `escalation latency after due: n=${latencies.length}/${alerts} (with ${background} alerts not due), ` +
    `SAFETY_INTERVAL ${intervalMs} ms: p50 ${at(0.5)} ms  p99 ${at(0.99)} ms  max ${latencies.at(-1)} ms`,
);
await store.close();
rmSync(dir, { recursive: true, force: true });
if (latencies.length < alerts) process.exitCode = 1;
