import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { examplePatient } from '@imaging/fhir/examples';
import { HttpStore, NHS_NUMBER_SYSTEM, randomTestNhsNumber, SqliteStore } from '@imaging/fhir';
import type { FhirStore } from '@imaging/fhir';
import { median, quantile, table } from './report.ts';

export interface SideBySideRow {
  store: string;
  resources: number;
  operation: string;
  medianMs: number;
  p95Ms: number;
}

/** Measured by the issue, for scale: Medplum's in-memory MemoryRepository, one identifier search. */
export const MEDPLUM_MEMORY_ANCHORS = [
  { resources: 500, identifierSearchMs: 1.5 },
  { resources: 5000, identifierSearchMs: 14 },
];

/**
 * The same operations through the same store port on HAPI FHIR (over HTTP, direct: no gateway) and on
 * the embedded store: `size` Patients created one by one, then identifier searches and reads.
 */
export async function runHapiSideBySide(hapiUrl: string, size: number): Promise<SideBySideRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'imaging-bench-hapi-'));
  const stores: [string, FhirStore][] = [
    ['HAPI FHIR (HTTP, direct)', new HttpStore({ baseUrl: hapiUrl })],
    ['embedded SQLite', new SqliteStore({ path: join(dir, 'side-by-side.sqlite') })],
  ];
  const rows: SideBySideRow[] = [];
  try {
    for (const [name, store] of stores) rows.push(...(await measure(name, store, size)));
  } finally {
    for (const [, store] of stores) await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nHAPI FHIR at ${hapiUrl} beside the embedded store, ${size} Patients`);
  console.log(
    table(
      ['store', 'resources', 'operation', 'median ms', 'p95 ms'],
      rows.map((r) => [r.store, r.resources, r.operation, r.medianMs, r.p95Ms]),
    ),
  );
  console.log(
    `anchor (measured by the issue): Medplum MemoryRepository, identifier search ${MEDPLUM_MEMORY_ANCHORS.map((a) => `${a.identifierSearchMs} ms at ${a.resources}`).join(', ')}`,
  );
  return rows;
}

async function measure(name: string, store: FhirStore, size: number): Promise<SideBySideRow[]> {
  const numbers: string[] = [];
  const ids: string[] = [];
  const creates: number[] = [];
  for (let i = 0; i < size; i++) {
    const nhs = randomTestNhsNumber();
    numbers.push(nhs);
    const t0 = performance.now();
    const { resource } = await store.create(
      examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: nhs }] }),
      { ifNoneExist: `identifier=${NHS_NUMBER_SYSTEM}|${nhs}` },
    );
    creates.push(performance.now() - t0);
    ids.push(resource.id);
  }
  const searches: number[] = [];
  const reads: number[] = [];
  for (let k = 0; k < Math.min(200, size); k++) {
    const i = (k * 7919) % size;
    let t0 = performance.now();
    await store.search('Patient', { identifier: `${NHS_NUMBER_SYSTEM}|${numbers[i]}`, _total: 'none' });
    searches.push(performance.now() - t0);
    t0 = performance.now();
    await store.read('Patient', ids[i] as string);
    reads.push(performance.now() - t0);
  }
  const row = (operation: string, times: number[]): SideBySideRow => ({
    store: name,
    resources: size,
    operation,
    medianMs: median(times),
    p95Ms: quantile(times, 0.95),
  });
  return [row('conditional create', creates), row('identifier search', searches), row('read', reads)];
}
