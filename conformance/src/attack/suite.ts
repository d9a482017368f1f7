import { NHS_NUMBER_SYSTEM, randomTestNhsNumber } from '@imaging/fhir';
import { examplePatient } from '@imaging/fhir/examples';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttackCase } from './cases/index.ts';
import { ATTACK_CASES, FAMILIES } from './cases/index.ts';
import type { Finding, FindingKind } from './checker.ts';
import { attackSurface } from './deployment.ts';
import type { Tally } from './runner.ts';
import { checkHealth, emptyTally, runCases } from './runner.ts';
import type { Answer, AttackSurface } from './surface.ts';
import type { AttackWorld, AttackWorldOptions } from './world.ts';
import { attackWorld } from './world.ts';

/**
 * The attack-surface suite: every case of every family (cases/), against the real hub and gateways on
 * the stores `open` gives them, after proving on planted failures that the harness reports each kind.
 * The same suite runs on the embedded store (attack-surface.test.ts) and on HAPI FHIR (conformance group 6).
 */
export interface AttackSuiteOptions {
  /** The stores, and strings of the deployment no answer may show (a server's address, partition names). */
  open: () => Promise<AttackWorldOptions & { internals?: readonly string[] }>;
  timeoutMs?: number;
  /** Where the run's counts go besides the test output (the conformance report's notes). */
  record?: (line: string) => void;
}

const format = (f: Finding) => `[${f.kind}] ${f.where}: ${f.detail}`;

export function describeAttackSurface(label: string, options: AttackSuiteOptions): void {
  const timeout = options.timeoutMs ?? 120_000;
  describe(`attack surface on ${label}`, () => {
    let world: AttackWorld;
    let surface: AttackSurface;
    const tally: Tally = emptyTally();

    beforeAll(async () => {
      const opened = await options.open();
      world = await attackWorld(opened);
      surface = attackSurface(world, opened.internals);
    }, timeout);

    const summary = () => `attack surface on ${label}: ${JSON.stringify(tally)}`;
    afterAll(async () => {
      console.log(summary());
      await world?.close();
    });

    it('the harness reports each kind of failure it is shown, and nothing on a clean answer', { timeout }, async () => {
      const kinds = async (
        attack: Pick<AttackCase, 'credential' | 'expect' | 'service'> & { method?: string },
        answer: () => Answer | Promise<Answer>,
      ): Promise<FindingKind[]> => {
        const planted: AttackSurface = { ...surface, send: async () => answer() };
        const found = await runCases(planted, world, [
          {
            family: 'tokens',
            name: 'planted',
            request: () => ({ method: attack.method ?? 'GET', path: '/fhir/Task' }),
            ...attack,
          },
        ]);
        return found.map((f) => f.kind);
      };
      const outcome = (text = 'refused') =>
        JSON.stringify({
          resourceType: 'OperationOutcome',
          issue: [{ severity: 'error', code: 'processing', diagnostics: text }],
        });
      const report = world.markers.find((m) => m.what === 'A-report')?.text as string;
      const bundle = JSON.stringify({
        resourceType: 'Bundle',
        type: 'searchset',
        entry: [{ resource: { conclusion: report } }],
      });
      const gpM = { kind: 'client' as const, client: 'gp-m81001' };
      const gpN = { kind: 'client' as const, client: 'gp-n81001' };

      expect(
        await kinds({ service: 'north', credential: gpN, expect: [200] }, () => ({ status: 200, text: bundle })),
      ).toEqual([]);
      expect(
        await kinds({ service: 'north', credential: gpN, expect: [401] }, () => ({ status: 500, text: outcome() })),
      ).toEqual(['server-error', 'unexpected-status']);
      expect(
        await kinds({ service: 'midlands', credential: gpM, expect: [200] }, () => ({ status: 200, text: bundle })),
      ).toEqual(['leak']);
      expect(
        await kinds({ service: 'hub', credential: { kind: 'none' }, expect: [404] }, () => ({
          status: 404,
          text: bundle,
        })),
      ).toEqual(['not-an-outcome', 'leak']);
      expect(
        await kinds({ service: 'north', credential: gpN, expect: [400] }, () => ({
          status: 400,
          text: outcome('HAPI-0302: ca.uhn.fhir.rest.server.exceptions.InvalidRequestException in partition north'),
        })),
      ).toEqual(expect.arrayContaining(['internal-detail']));
      // A store's description names several internals on HAPI (its address, host and partition): one
      // finding for each, and nothing of any other kind.
      const described = await kinds({ service: 'north', credential: gpN, expect: [400] }, () => ({
        status: 400,
        text: outcome(`cannot reach ${world.stores.north.description}`),
      }));
      expect(described.length).toBeGreaterThan(0);
      expect(new Set(described)).toEqual(new Set(['internal-detail']));
      const writing = async () => {
        await world.stores.north.create(
          examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: randomTestNhsNumber() }] }),
        );
        return { status: 403, text: outcome() };
      };
      const tallied: Tally = emptyTally();
      const planted: AttackSurface = { ...surface, send: async () => writing() };
      const found = await runCases(
        planted,
        world,
        [
          {
            family: 'bodies',
            name: 'planted write',
            service: 'north',
            credential: gpN,
            expect: [403],
            request: () => ({ method: 'POST', path: '/fhir/Patient' }),
          },
        ],
        tallied,
      );
      expect(found.map((f) => f.kind)).toEqual(['write']);
      expect(found[0]?.detail).toMatch(/north: Patient count \d+ → \d+/);
      expect(tallied.writesFromRefused).toBe(1);

      const down: AttackSurface = { ...surface, send: async () => ({ status: 503, text: outcome() }) };
      const unhealthy = await checkHealth(down, ['north']);
      expect(unhealthy.length).toBeGreaterThan(1);
      expect(new Set(unhealthy.map((f) => f.kind))).toEqual(new Set(['unhealthy']));
      const empty: AttackSurface = {
        ...surface,
        send: async () => ({ status: 200, text: '{"resourceType":"Bundle"}' }),
      };
      expect((await checkHealth(empty, [])).some((f) => f.detail.startsWith('does not show SECRET-'))).toBe(true);
    });

    for (const family of FAMILIES) {
      it(`${family}: ${ATTACK_CASES[family].length} cases, each answered as expected, no 5xx, no leak, no write from a refusal`, {
        timeout,
      }, async () => {
        const findings = await runCases(surface, world, ATTACK_CASES[family], tally);
        findings.push(...(await checkHealth(surface, world.services)));
        expect(findings.map(format)).toEqual([]);
        expect(tally.byFamily[family]).toBe(ATTACK_CASES[family].length);
      });
    }

    it('every service is healthy after, and legitimate requests still work', { timeout }, async () => {
      options.record?.(summary());
      expect((await checkHealth(surface, world.services)).map(format)).toEqual([]);
    });

    /**
     * A product decision, recorded in docs/security.md: a referrer that registers a patient the region
     * already holds (matched on NHS number) gains access to that record. It runs last: it changes who may
     * see case A's patient.
     */
    it('residual risk: registering a known NHS number attaches the caller’s label and shows the patient', {
      timeout,
    }, async () => {
      const patient = world.markers.find((m) => m.what === 'A-patient')?.text as string;
      const answer = await world.send(
        'midlands',
        {
          method: 'POST',
          path: '/fhir/Patient',
          body: examplePatient({ identifier: [{ system: NHS_NUMBER_SYSTEM, value: world.seeded.nhs.A }] }),
        },
        await surface.authorization({ kind: 'client', client: 'gp-m81001' }),
      );
      expect(answer.status).toBe(200);
      expect(answer.text).toContain(patient);
      const read = await world.send(
        'midlands',
        { method: 'GET', path: `/fhir/Patient/${world.seeded.midlands.A.patient}` },
        await surface.authorization({ kind: 'client', client: 'gp-m81001' }),
      );
      expect(read.status).toBe(200);
    });
  });
}
