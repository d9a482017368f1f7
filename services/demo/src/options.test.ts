import { describe, expect, it } from 'vitest';
import { parseDemoArgs, UsageError } from './options.ts';

const ROOT = '/repo';

describe('demo options', () => {
  it('defaults: scenario only, embedded stores, the usual ports, .data/demo', () => {
    expect(parseDemoArgs([], ROOT)).toEqual({
      explore: false,
      scenario: true,
      portBase: 4000,
      dataDir: '/repo/.data/demo',
      host: '127.0.0.1',
    });
  });

  it('takes --explore, --hapi, --port-base and --data-dir, also after a `--`', () => {
    expect(
      parseDemoArgs(
        ['--', '--explore', '--hapi', 'http://127.0.0.1:8080/fhir/', '--port-base', '5000', '--data-dir', '/tmp/d'],
        ROOT,
      ),
    ).toEqual({
      explore: true,
      scenario: true,
      hapiUrl: 'http://127.0.0.1:8080/fhir',
      portBase: 5000,
      dataDir: '/tmp/d',
      host: '127.0.0.1',
    });
  });

  it('takes --no-scenario: the topology alone, left running for exploring', () => {
    expect(parseDemoArgs(['--no-scenario'], ROOT)).toMatchObject({ explore: true, scenario: false });
  });

  it('checks the flow view’s port (n+100) only when it is served, with --explore', () => {
    expect(parseDemoArgs(['--port-base', '6597'], ROOT)?.portBase).toBe(6597);
  });

  it('answers --help with undefined (print the usage)', () => {
    expect(parseDemoArgs(['--help'], ROOT)).toBeUndefined();
  });

  it.each([
    [['--port-base', 'abc'], /--port-base must be a port/],
    [['--port-base', '65500'], /--port-base must be a port/],
    [['--port-base', '6000'], /port 6000, which fetch\(\) refuses/],
    [['--port-base', '6465'], /gives port 6566, which fetch/],
    [['--explore', '--port-base', '6597'], /gives port 6697, which fetch/],
    [['--no-scenario', '--port-base', '6597'], /gives port 6697, which fetch/],
    [['--hapi', 'not a url'], /--hapi must be an http\(s\) URL/],
    [['--hapi', 'ftp://x/fhir'], /--hapi must be an http\(s\) URL/],
    [['--fast'], /Unknown option '--fast'/],
    [['north'], /positional/],
  ])('rejects %j with a usage error', (argv, message) => {
    expect(() => parseDemoArgs(argv, ROOT)).toThrow(UsageError);
    expect(() => parseDemoArgs(argv, ROOT)).toThrow(message);
  });
});
