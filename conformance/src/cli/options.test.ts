import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HUB_PORT,
  fileFilters,
  parseCliArgs,
  passesOf,
  suiteEnvironment,
  suiteOptionsFromEnv,
  UsageError,
} from './options.ts';
import type { CliOptions } from './options.ts';

const parse = (...args: string[]) => parseCliArgs(args, '/repo');
const problem = (...args: string[]) => {
  try {
    parse(...args);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a UsageError for ${args.join(' ')}`);
};

describe('parseCliArgs', () => {
  it('defaults: HAPI started automatically, every group, reports in reports/conformance', () => {
    expect(parse()).toEqual({
      outDir: '/repo/reports/conformance',
      hapi: 'auto',
      databases: ['h2'],
      groups: [],
      hubPort: DEFAULT_HUB_PORT,
      hubHost: '127.0.0.1',
      actorTimeoutSeconds: 300,
      simulateRis: false,
    });
  });

  it('takes a target, an out dir, groups and the npm separator', () => {
    expect(parse('--', '--target', 'http://h:8080/fhir/', '--out', 'x', '--group', '3', '--group', '1')).toMatchObject({
      target: 'http://h:8080/fhir',
      outDir: '/repo/x',
      groups: [1, 3],
    });
  });

  it('--actor runs group 5 only', () => {
    expect(parse('--actor', 'referrer')).toMatchObject({ actor: 'referrer', groups: [5], databases: [] });
  });

  it('--db names the databases to run HAPI on, in order, once each', () => {
    expect(parse('--db', 'postgres')).toMatchObject({ databases: ['postgres'] });
    expect(parse('--db', 'h2', '--db', 'postgres', '--db', 'h2', '--hapi', 'jar')).toMatchObject({
      databases: ['h2', 'postgres'],
      hapi: 'jar',
    });
    expect(parse('--target', 'http://h/fhir')).toMatchObject({ databases: [] });
  });

  it('--help is undefined (print usage)', () => {
    expect(parse('--help')).toBeUndefined();
    expect(parse('-h')).toBeUndefined();
  });

  it.each([
    [['--targte', 'x'], /Unknown option '--targte'/],
    [['--target', 'ftp://h/fhir'], /--target must be an http\(s\) URL/],
    [['--target', 'not a url'], /--target must be an http\(s\) URL/],
    [['--target', 'http://h/fhir?x=1'], /--target must be an http\(s\) URL/],
    [['--actor', 'pacs'], /--actor must be one of imaging-provider, referrer, not 'pacs'/],
    [['--hapi', 'docker'], /--hapi must be one of auto, container, jar/],
    [['--hapi', 'jar', '--target', 'http://h/fhir'], /--hapi only applies when the suite starts HAPI/],
    [['--group', '8'], /--group must be one of 1, 2, 3, 4, 5, 6, 7, not '8'/],
    [['--db', 'mysql'], /--db must be one of h2, postgres, not 'mysql'/],
    [['--db', 'postgres', '--target', 'http://h/fhir'], /--db only applies when the suite starts HAPI/],
    [['--db', 'h2', '--actor', 'referrer'], /--db only applies when the suite starts HAPI/],
    [['--db', 'postgres', '--hapi', 'container'], /--db postgres runs HAPI from the launcher jar/],
    [['--actor', 'referrer', '--group', '2'], /--actor runs only the actor tests/],
    [['--hub-port', '70000'], /--hub-port must be a port/],
    [['--sut-jwks-uri', 'https://v/jwks'], /--sut-jwks-uri only applies to a vendor system/],
    [['--actor-timeout', '1'], /--actor-timeout must be a number of seconds from 5/],
    [['extra'], /Unexpected argument 'extra'/],
    [
      ['--actor', 'referrer', '--target', 'http://v/fhir', '--simulate-ris'],
      /--simulate-ris only applies to a vendor imaging provider/,
    ],
  ])('%j is refused: %s', (args, message) => {
    expect(problem(...(args as string[]))).toMatch(message as RegExp);
  });

  it('names every problem at once, and shows the usage', () => {
    const message = problem('--actor', 'x', '--group', '9');
    expect(message).toMatch(/--actor must be one of/);
    expect(message).toMatch(/--group must be one of/);
    expect(message).toMatch(/Usage: pnpm conformance/);
  });
});

describe('from the CLI to the suite', () => {
  it('the environment carries the options to the suite, and back', () => {
    const cli = parse(
      '--actor',
      'imaging-provider',
      '--target',
      'https://vendor.example/fhir',
      '--hub-port',
      '4911',
      '--sut-jwks-uri',
      'https://vendor.example/jwks',
      '--actor-timeout',
      '600',
      '--simulate-ris',
    );
    const env = suiteEnvironment(
      cli as NonNullable<typeof cli>,
      { database: null, groups: [5], outDir: '/o' },
      '/work',
    );
    const options = suiteOptionsFromEnv(env, '/unused');
    expect(options).toMatchObject({
      actor: 'imaging-provider',
      actorTarget: 'https://vendor.example/fhir',
      hubPort: 4911,
      sutJwksUri: 'https://vendor.example/jwks',
      actorTimeoutMs: 600_000,
      simulateRis: true,
      groups: [5],
    });
    expect(options.workDir).toBe(`/work/${env.CONFORMANCE_RUN_ID}`);
  });

  it('without --actor, a --target is the FHIR server, not a system under test', () => {
    const cli = parse('--target', 'http://h/fhir', '--group', '2') as NonNullable<ReturnType<typeof parse>>;
    const [pass] = passesOf(cli);
    const options = suiteOptionsFromEnv(suiteEnvironment(cli, pass as NonNullable<typeof pass>, '/w'), '/w');
    expect(options).toMatchObject({ actor: null, actorTarget: null, groups: [2] });
  });

  it('one run per database, each with its own reports and run id; the actor, attack-surface and clinical-safety groups only in the first', () => {
    const cli = parse('--db', 'h2', '--db', 'postgres') as NonNullable<ReturnType<typeof parse>>;
    const passes = passesOf(cli);
    expect(passes).toEqual([
      { database: 'h2', groups: [], outDir: '/repo/reports/conformance/h2' },
      { database: 'postgres', groups: [1, 2, 3, 4], outDir: '/repo/reports/conformance/postgres' },
    ]);
    const envs = passes.map((pass) => suiteEnvironment(cli, pass, '/w'));
    expect(envs.map((env) => env.CONFORMANCE_DB)).toEqual(['h2', 'postgres']);
    expect(envs.map((env) => env.CONFORMANCE_GROUPS)).toEqual(['1,2,3,4,5,6,7', '1,2,3,4']);
    expect(envs[0]?.CONFORMANCE_RUN_ID).not.toBe(envs[1]?.CONFORMANCE_RUN_ID);
  });

  it('chosen groups apply to every database; a run left with nothing to do is dropped', () => {
    const some = parse('--db', 'postgres', '--db', 'h2', '--group', '4', '--group', '1') as CliOptions;
    expect(passesOf(some).map((p) => [p.database, p.groups])).toEqual([
      ['postgres', [1, 4]],
      ['h2', [1, 4]],
    ]);
    const actorOnly = parse('--db', 'h2', '--db', 'postgres', '--group', '5') as CliOptions;
    expect(passesOf(actorOnly).map((p) => [p.database, p.groups])).toEqual([['h2', [5]]]);
    const safetyOnly = parse('--db', 'h2', '--db', 'postgres', '--group', '7') as CliOptions;
    expect(passesOf(safetyOnly).map((p) => [p.database, p.groups])).toEqual([['h2', [7]]]);
  });

  it('with --target or --actor, one run, reporting straight into --out', () => {
    const cli = parse('--actor', 'referrer', '--out', 'r') as CliOptions;
    expect(passesOf(cli)).toEqual([{ database: null, groups: [5], outDir: '/repo/r' }]);
  });

  it('file filters select the groups, or one actor file', () => {
    expect(fileFilters({ groups: [] })).toEqual([]);
    expect(fileFilters({ groups: [1, 4] })).toEqual(['src/groups/1-', 'src/groups/4-']);
    expect(fileFilters({ actor: 'referrer', groups: [5] })).toEqual(['src/groups/5-actor/referrer.test.ts']);
  });

  it('a bad CONFORMANCE_ACTOR in the environment is an error', () => {
    expect(() => suiteOptionsFromEnv({ CONFORMANCE_ACTOR: 'pacs' }, '/w')).toThrow(/CONFORMANCE_ACTOR must be one of/);
  });
});
