import { OutcomeError } from '@imaging/fhir';
import type { OperationOutcome } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFhirApp } from './app.ts';
import { jsonDeeperThan, MAX_JSON_DEPTH, parseJsonBody, readResource } from './body.ts';
import { silentLogger } from '@imaging/fhir';
import { fhirResponse } from './responses.ts';

/** The error `parse` throws; fails the test when it returns or throws anything else. */
function outcomeErrorFrom(parse: () => unknown): OutcomeError {
  try {
    parse();
  } catch (err) {
    if (err instanceof OutcomeError) return err;
    throw err;
  }
  throw new Error('expected an OutcomeError');
}

/** Nesting depth of a parsed value, the obvious recursive way (the values here are at most ~100 deep). */
function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

/** Strings full of what a bracket counter could trip on: brackets, quotes and escapes. */
const tricky = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', '\u2028', '😀') });
const shallow = fc.oneof(tricky, fc.jsonValue({ maxDepth: 2 }));

/** One level of nesting on the path down: an array or an object, with shallow siblings. */
const level = fc.oneof(
  fc.record({
    kind: fc.constant('array' as const),
    before: fc.array(shallow, { maxLength: 2 }),
    after: fc.array(shallow, { maxLength: 2 }),
  }),
  fc.record({
    kind: fc.constant('object' as const),
    key: tricky,
    siblings: fc.dictionary(tricky, shallow, { maxKeys: 2 }),
  }),
);

/** A JSON value nested around the bound (0 to MAX_JSON_DEPTH + 30 levels on one path, plus its leaves). */
const nested = fc
  .integer({ min: 0, max: MAX_JSON_DEPTH + 30 })
  .chain((depth) => fc.array(level, { minLength: depth, maxLength: depth }))
  .chain((levels) =>
    shallow.map((leaf) =>
      levels.reduceRight<unknown>(
        (inner, level) =>
          level.kind === 'array' ? [...level.before, inner, ...level.after] : { ...level.siblings, [level.key]: inner },
        leaf,
      ),
    ),
  );

describe('parseJsonBody', () => {
  it(`accepts JSON exactly when it nests at most ${MAX_JSON_DEPTH} deep, and refuses the rest with 400`, () => {
    const seen = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(nested, (value) => {
        const text = JSON.stringify(value);
        if (depthOf(value) <= MAX_JSON_DEPTH) {
          expect(parseJsonBody(text)).toEqual(JSON.parse(text));
          seen.accepted++;
        } else {
          const error = outcomeErrorFrom(() => parseJsonBody(text));
          expect(error.status).toBe(400);
          expect(error.outcome.issue[0]?.details?.text).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
          seen.refused++;
        }
      }),
      { numRuns: 300 },
    );
    // Both sides of the bound were really tried.
    expect(seen.accepted).toBeGreaterThan(50);
    expect(seen.refused).toBeGreaterThan(50);
  });

  it('answers any text at all with a value or a 400, never anything else', () => {
    const text = fc.oneof(
      fc.string(),
      tricky,
      fc.string({ unit: fc.constantFrom('{', '[', ']', '}', '"', '1', ',', ':') }),
      fc.jsonValue().map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(text, (body) => {
        let parsed: unknown;
        try {
          parsed = parseJsonBody(body);
        } catch (err) {
          expect(err).toBeInstanceOf(OutcomeError);
          expect((err as OutcomeError).status).toBe(400);
          return;
        }
        expect(parsed).toEqual(JSON.parse(body));
      }),
      { numRuns: 1000 },
    );
  });

  it('measures depth on the text without recursion, so 10,000 levels are refused, not a stack overflow', () => {
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
    ]) {
      const text = `${(open as string).repeat(10_000)}1${(close as string).repeat(10_000)}`;
      expect(outcomeErrorFrom(() => parseJsonBody(text)).status).toBe(400);
    }
  });

  it('counts brackets inside strings, escaped quotes included, as text', () => {
    const text = JSON.stringify({ a: `\\"${'['.repeat(200)}\\`, b: ['"]]]"'] });
    expect(jsonDeeperThan(text, 2)).toBe(false);
    expect(jsonDeeperThan(text, 1)).toBe(true);
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });

  it('still answers malformed JSON with 400', () => {
    expect(outcomeErrorFrom(() => parseJsonBody('{"resourceType":')).outcome.issue[0]?.details?.text).toMatch(
      /^Malformed JSON/,
    );
  });
});

describe('readResource', () => {
  const app = createFhirApp({ logger: silentLogger });
  app.post('/fhir/Patient', async (c) => fhirResponse(await readResource(c, 'Patient'), 201));
  const post = (body: string) =>
    app.request('/fhir/Patient', { method: 'POST', body, headers: { 'Content-Type': 'application/fhir+json' } });

  /** A Patient whose extension nests `levels` deep, as an attacker would send it. */
  const deepPatient = (levels: number) => {
    let extension = '{"url":"x","valueString":"y"}';
    for (let i = 0; i < levels; i++) extension = `{"url":"x","extension":[${extension}]}`;
    return `{"resourceType":"Patient","extension":[${extension}]}`;
  };

  it('refuses a body nested 10,000 deep with a 400 OperationOutcome', async () => {
    const res = await post(deepPatient(10_000));
    expect(res.status).toBe(400);
    const outcome = (await res.json()) as OperationOutcome;
    expect(outcome.issue[0]?.details?.text).toBe(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('accepts a resource nested well within the bound', async () => {
    expect((await post(deepPatient(25))).status).toBe(201);
  });
});
