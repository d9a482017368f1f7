/**
 * SMART scopes. v1: `system/Task.read`, `system/Task.write`, `system/*.*`; v2: `system/Task.rs`,
 * `system/*.cruds` (letters in that order). Anything else well-formed is a custom scope (`hub/route`),
 * matched exactly. Only `system/` scopes mean anything here: a backend-services token has no patient
 * or user in context, so `patient/` and `user/` scopes are never granted and never satisfy a check.
 */

export type Interaction = 'create' | 'read' | 'update' | 'delete' | 'search';
type Letter = 'c' | 'r' | 'u' | 'd' | 's';

const LETTERS: readonly Letter[] = ['c', 'r', 'u', 'd', 's'];
const LETTER_OF: Record<Interaction, Letter> = { create: 'c', read: 'r', update: 'u', delete: 'd', search: 's' };
const V1: Record<string, readonly Letter[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': LETTERS };

export interface ResourceScope {
  kind: 'resource';
  context: 'system' | 'user' | 'patient';
  /** A resource type, or `*` for all. */
  resourceType: string;
  permissions: ReadonlySet<Letter>;
}
export interface CustomScope {
  kind: 'custom';
  value: string;
}
export type Scope = ResourceScope | CustomScope;

const RESOURCE_SCOPE = /^(system|user|patient)\/(\*|[A-Z][A-Za-z]{1,63})\.([a-z*]+)$/;
// RFC 6749 §3.3 scope-token characters, minus the ones that have meaning in our own syntax.
const CUSTOM_SCOPE = /^[A-Za-z0-9][A-Za-z0-9\-_.:/]{0,127}$/;

/** A scope's meaning, or undefined when it is malformed or uses SMART v2 query parameters. */
export function parseScope(value: string): Scope | undefined {
  const m = RESOURCE_SCOPE.exec(value);
  if (m) {
    const [, context, resourceType, suffix] = m as unknown as [string, ResourceScope['context'], string, string];
    const permissions = V1[suffix] ?? v2Letters(suffix);
    return permissions ? { kind: 'resource', context, resourceType, permissions: new Set(permissions) } : undefined;
  }
  if (/^(system|user|patient)\//.test(value) || !CUSTOM_SCOPE.test(value)) return undefined;
  return { kind: 'custom', value };
}

/** `cruds` letters, each at most once and in that order. */
function v2Letters(suffix: string): Letter[] | undefined {
  let next = 0;
  const out: Letter[] = [];
  for (const ch of suffix) {
    const at = LETTERS.indexOf(ch as Letter, next);
    if (at < 0) return undefined;
    out.push(ch as Letter);
    next = at + 1;
  }
  return out.length ? out : undefined;
}

/** Splits a space-separated `scope` string. */
export function splitScopes(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean);
}

export type ScopeHolder = { scope: string } | readonly string[];

function scopesOf(holder: ScopeHolder): readonly string[] {
  return Array.isArray(holder) ? holder : splitScopes((holder as { scope: string }).scope);
}

/** True when the scopes allow `interaction` on `resourceType` (system context). */
export function hasScope(holder: ScopeHolder, resourceType: string, interaction: Interaction): boolean {
  const letter = LETTER_OF[interaction];
  return scopesOf(holder).some((raw) => {
    const s = parseScope(raw);
    return (
      s?.kind === 'resource' &&
      s.context === 'system' &&
      (s.resourceType === '*' || s.resourceType === resourceType) &&
      s.permissions.has(letter)
    );
  });
}

/** True when the scopes hold exactly this custom scope (`hub/route`). */
export function hasCustomScope(holder: ScopeHolder, scope: string): boolean {
  return scopesOf(holder).includes(scope);
}

/** The narrowest SMART v2 scope that allows the interaction, for error messages. */
export function scopeNeeded(resourceType: string, interaction: Interaction): string {
  return `system/${resourceType}.${LETTER_OF[interaction]}`;
}

export interface ScopeGrant {
  /** What the token carries: each requested scope the client may have, narrowed where it asked too much. */
  granted: string[];
  /** Requested scopes of which nothing could be granted. */
  refused: string[];
}

/**
 * What a client gets of what it asked for. A resource scope is narrowed to the permissions the
 * client's allowed scopes give it on that type (a request for `system/*.x` only by allowed `*`
 * scopes); a custom scope needs an exact match. Partial grants are allowed (RFC 6749 §3.3): the
 * token response's `scope` tells the client what it got.
 */
export function grantScopes(requested: readonly string[], allowed: readonly string[]): ScopeGrant {
  const allowedScopes = allowed.map(parseScope).filter((s): s is Scope => s !== undefined);
  const granted: string[] = [];
  const refused: string[] = [];
  for (const raw of requested) {
    const grant = grantOne(raw, allowedScopes);
    if (grant === undefined) refused.push(raw);
    else if (!granted.includes(grant)) granted.push(grant);
  }
  return { granted, refused };
}

function grantOne(raw: string, allowed: Scope[]): string | undefined {
  const wanted = parseScope(raw);
  if (!wanted) return undefined;
  if (wanted.kind === 'custom')
    return allowed.some((a) => a.kind === 'custom' && a.value === wanted.value) ? raw : undefined;
  if (wanted.context !== 'system') return undefined;
  const permitted = new Set<Letter>();
  for (const a of allowed) {
    if (a.kind !== 'resource' || a.context !== 'system') continue;
    if (a.resourceType !== '*' && a.resourceType !== wanted.resourceType) continue;
    for (const p of a.permissions) permitted.add(p);
  }
  const letters = LETTERS.filter((l) => wanted.permissions.has(l) && permitted.has(l));
  if (letters.length === 0) return undefined;
  if (letters.length === wanted.permissions.size) return raw;
  return `system/${wanted.resourceType}.${letters.join('')}`;
}
