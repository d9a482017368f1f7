import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { documentationProblems, documentedVariables } from './documented-env.ts';
import { env } from './index.ts';

const schema = z.object({
  REGION_ID: z.string(),
  PORT: env.port(4101),
  HOST: z.string().default('127.0.0.1'),
  STORE: z.string().optional(),
  TTL: env.duration('15m'),
  DEV: env.bool(true),
});

const readme = (rows: string) => `
Some text.

| svc variable | default | meaning |
| ------------ | ------- | ------- |
${rows}

| other | x |
`;

const GOOD = [
  '| `REGION_ID` | (required) | which region |',
  '| `PORT`, `HOST` | `4101`, `127.0.0.1` | where it listens |',
  '| `STORE` | `<data dir>/<REGION_ID>/fhir.sqlite` | worked out at start-up |',
  '| `TTL`, `DEV` | `15m`, `true` | |',
].join('\n');

describe('a configuration table checked against its schema', () => {
  it('reads one variable per name, each with its own default', () => {
    expect(documentedVariables(readme(GOOD), 'svc variable').map((d) => [d.name, d.default])).toEqual([
      ['REGION_ID', '(required)'],
      ['PORT', '`4101`'],
      ['HOST', '`127.0.0.1`'],
      ['STORE', '`<data dir>/<REGION_ID>/fhir.sqlite`'],
      ['TTL', '`15m`'],
      ['DEV', '`true`'],
    ]);
    expect(documentationProblems(schema, documentedVariables(readme(GOOD), 'svc variable'))).toEqual([]);
  });

  it.each([
    [
      'a variable left out',
      GOOD.replace('| `TTL`, `DEV` | `15m`, `true` | |', '| `TTL` | `15m` | |'),
      'DEV is not documented',
    ],
    ['a variable the schema does not read', `${GOOD}\n| \`GONE\` | \`1\` | |`, 'GONE is documented but not read'],
    ['a wrong default', GOOD.replace('`15m`', '`5m`'), 'TTL defaults to 900000, documented as `5m`'],
    [
      'a default in words where the schema has one',
      GOOD.replace('`4101`', 'the usual'),
      'PORT defaults to 4101, documented as the usual',
    ],
    [
      'a required variable given a default',
      GOOD.replace('(required)', '`north`'),
      'REGION_ID is required, documented with default `north`',
    ],
    [
      'a variable with a default said to be required',
      GOOD.replace('`127.0.0.1`', '(required)'),
      'HOST is documented as required, but has a default',
    ],
  ])('finds %s', (_name, rows, problem) => {
    expect(documentationProblems(schema, documentedVariables(readme(rows), 'svc variable'))).toEqual([problem]);
  });

  it('refuses a row whose defaults do not match its names, and a missing table', () => {
    expect(() => documentedVariables(readme('| `PORT`, `HOST` | `4101` | |'), 'svc variable')).toThrow(
      /2 variables but 1/,
    );
    expect(() => documentedVariables(readme(GOOD), 'nope')).toThrow(/No table headed 'nope'/);
  });
});
