import { describe, expect, it } from 'vitest';
import { grantScopes, hasCustomScope, hasScope, parseScope, scopeNeeded } from './scopes.ts';

describe('parseScope', () => {
  it.each([
    ['system/Task.rs', 'Task', ['r', 's']],
    ['system/Task.cruds', 'Task', ['c', 'r', 'u', 'd', 's']],
    ['system/*.rs', '*', ['r', 's']],
    ['system/Task.read', 'Task', ['r', 's']],
    ['system/Task.write', 'Task', ['c', 'u', 'd']],
    ['system/*.*', '*', ['c', 'r', 'u', 'd', 's']],
  ])('reads %s', (scope, resourceType, letters) => {
    const parsed = parseScope(scope);
    expect(parsed).toMatchObject({ kind: 'resource', context: 'system', resourceType });
    expect([...(parsed as { permissions: ReadonlySet<string> }).permissions]).toEqual(letters);
  });

  it.each([
    'system/Task.sr',
    'system/Task.rr',
    'system/Task.x',
    'system/task.rs',
    'system/Task.',
    'system/Observation.rs?category=x',
    'a b',
    '',
  ])('rejects %j', (scope) => expect(parseScope(scope)).toBeUndefined());

  it('reads anything else well-formed as a custom scope', () => {
    expect(parseScope('hub/route')).toEqual({ kind: 'custom', value: 'hub/route' });
  });
});

describe('hasScope', () => {
  const claims = { scope: 'system/Task.rus system/Patient.read system/*.s hub/route patient/Observation.cruds' };
  it.each([
    ['Task', 'read', true],
    ['Task', 'update', true],
    ['Task', 'create', false],
    ['Task', 'delete', false],
    ['Patient', 'read', true],
    ['Patient', 'search', true],
    ['Patient', 'create', false],
    ['DiagnosticReport', 'search', true], // system/*.s
    ['DiagnosticReport', 'read', false],
    ['Observation', 'read', false], // patient/ scopes mean nothing to a backend token
  ] as const)('%s %s → %s', (type, interaction, expected) => {
    expect(hasScope(claims, type, interaction)).toBe(expected);
  });

  it('reads v1 write and the * wildcard', () => {
    expect(hasScope(['system/Task.write'], 'Task', 'delete')).toBe(true);
    expect(hasScope(['system/Task.write'], 'Task', 'read')).toBe(false);
    expect(hasScope(['system/*.*'], 'Endpoint', 'create')).toBe(true);
  });

  it('matches custom scopes exactly', () => {
    expect(hasCustomScope(claims, 'hub/route')).toBe(true);
    expect(hasCustomScope(claims, 'hub/rout')).toBe(false);
    expect(hasCustomScope({ scope: 'hub/route-all' }, 'hub/route')).toBe(false);
  });

  it('names the scope needed', () => {
    expect(scopeNeeded('Task', 'update')).toBe('system/Task.u');
  });
});

describe('grantScopes', () => {
  const allowed = ['system/Task.rus', 'system/Patient.crs', 'system/*.s', 'hub/route'];
  it('grants what is allowed, as asked', () => {
    expect(grantScopes(['system/Task.rs', 'system/Patient.read', 'hub/route'], allowed)).toEqual({
      granted: ['system/Task.rs', 'system/Patient.read', 'hub/route'],
      refused: [],
    });
  });
  it('narrows a scope asking for more than allowed', () => {
    expect(grantScopes(['system/Task.cruds', 'system/Patient.*'], allowed).granted).toEqual([
      'system/Task.rus',
      'system/Patient.crs',
    ]);
  });
  it('uses wildcard allowances for any type, but a wildcard request only against wildcards', () => {
    expect(grantScopes(['system/Endpoint.rs'], allowed).granted).toEqual(['system/Endpoint.s']);
    expect(grantScopes(['system/*.rs'], allowed).granted).toEqual(['system/*.s']);
    expect(grantScopes(['system/*.rs'], ['system/Task.rs'])).toEqual({ granted: [], refused: ['system/*.rs'] });
  });
  it('refuses unknown, malformed, custom-mismatched and non-system scopes', () => {
    expect(
      grantScopes(['hub/admin', 'patient/Task.rs', 'user/Task.rs', 'system/Task.sr', 'system/Organization.c'], allowed),
    ).toEqual({
      granted: [],
      refused: ['hub/admin', 'patient/Task.rs', 'user/Task.rs', 'system/Task.sr', 'system/Organization.c'],
    });
  });
  it('grants each scope once', () => {
    expect(grantScopes(['hub/route', 'hub/route'], allowed).granted).toEqual(['hub/route']);
  });
});
