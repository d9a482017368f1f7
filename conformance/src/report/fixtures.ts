import type { Exchange } from '../record/exchange.ts';
import type { ReportModel, ReportTest } from './model.ts';
import { totalsOf } from './model.ts';

/** Report models for the reporters' tests: no vitest run needed. */
export function exchange(overrides: Partial<Exchange> = {}): Exchange {
  return {
    label: 'suite → server',
    at: '2026-11-23T10:00:00.000Z',
    durationMs: 12,
    request: {
      method: 'POST',
      url: 'http://127.0.0.1:8080/fhir/conformance/Task',
      headers: { 'content-type': 'application/fhir+json' },
      body: '{"resourceType":"Task"}',
    },
    response: { status: 201, headers: { etag: 'W/"1"' }, body: '{"resourceType":"Task","id":"1"}' },
    ...overrides,
  };
}

export function test(overrides: Partial<ReportTest> = {}): ReportTest {
  return {
    path: ['conditional create'],
    name: 'creates once',
    outcome: 'passed',
    durationMs: 30,
    reason: '',
    notes: [],
    exchanges: [exchange()],
    ...overrides,
  };
}

export function model(tests: ReportTest[], overrides: Partial<ReportModel> = {}): ReportModel {
  const groups = [{ key: '2-server-capability', title: '2. Server capability', tests, setupExchanges: [], errors: [] }];
  return {
    title: 'imaging-connect conformance',
    startedAt: '2026-11-23T10:00:00.000Z',
    durationMs: 61_000,
    target: {
      how: 'container',
      detail: 'localhost/imaging-connect/hapi-fhir:8.8.0-3 via testcontainers on podman 4.3.1',
      root: 'http://127.0.0.1:32771/fhir',
      partitioned: true,
      base: 'http://127.0.0.1:32771/fhir/conformance',
      definitionsBase: 'http://127.0.0.1:32771/fhir/DEFAULT',
      kind: 'hapi',
      software: 'HAPI FHIR Server 8.8.0',
      startupMs: 98_765,
      database: { kind: 'h2', description: 'in-memory H2' },
    },
    groups,
    totals: totalsOf(groups),
    unhandledErrors: [],
    ...overrides,
  };
}
