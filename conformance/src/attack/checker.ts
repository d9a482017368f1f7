import type { Identity, ServiceName } from './surface.ts';

/**
 * The checks applied to every answer of the attack suite, as plain functions over what was sent and what
 * came back, so the harness can be shown each kind of failure (checker.test.ts) before it is trusted.
 */

/** A secret planted in one organisation's data: the organisations that may see it, and who else may. */
export interface Marker {
  text: string;
  what: string;
  orgs: readonly string[];
  /** Callers that may see it anyway, at a service (the locator's readers, the hub reading results). */
  alsoVisible?: (caller: Identity, service: ServiceName) => boolean;
}

export type FindingKind =
  | 'server-error'
  | 'unexpected-status'
  | 'not-an-outcome'
  | 'leak'
  | 'internal-detail'
  | 'write'
  | 'unhealthy'
  | 'invalid-case';

export interface Finding {
  kind: FindingKind;
  /** The case (family: name) or probe it concerns. */
  where: string;
  detail: string;
}

/**
 * What no answer may contain, whoever asks: HAPI's message codes and Java class names, stack traces,
 * HAPI's paging ids, partition talk, the access filter a gateway adds to every search, and the private
 * member of a key (`d`).
 */
export const INTERNAL_PATTERNS: readonly RegExp[] = [
  /HAPI-\d{3,4}/,
  /\b(?:ca\.uhn|java|javax|org\.hibernate|org\.springframework|org\.postgresql|com\.zaxxer)\.[a-z]/,
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError|[A-Z]\w*Exception)\b/,
  /\n\s+at \S+ \(/,
  /node_modules|\.ts:\d+:\d+/,
  /_getpages/,
  /\bpartition/i,
  /_security(?:=|%3D)/i,
  /"d"\s*:\s*"/,
];

export interface Sent {
  where: string;
  service: ServiceName;
  /** The request as text (method, path, headers, body): what the answer may echo back. */
  request: string;
  /** Whether the path is a FHIR one, whose errors must be OperationOutcomes. */
  fhir: boolean;
  expect: readonly number[];
  caller: Identity | undefined;
}

/** Markers the caller may not see at this service. */
export function forbiddenMarkers(markers: readonly Marker[], caller: Identity | undefined, service: ServiceName) {
  return markers.filter(
    (m) =>
      !caller || !((caller.organisation && m.orgs.includes(caller.organisation)) || m.alsoVisible?.(caller, service)),
  );
}

/** Everything wrong with one answer. */
export function inspectAnswer(
  sent: Sent,
  answer: { status: number; text: string },
  markers: readonly Marker[],
  internals: readonly string[],
): Finding[] {
  const findings: Finding[] = [];
  const found = (kind: FindingKind, detail: string) => findings.push({ kind, where: sent.where, detail });
  if (answer.status >= 500) found('server-error', `${answer.status}: ${answer.text.slice(0, 300)}`);
  if (!sent.expect.includes(answer.status))
    found('unexpected-status', `${answer.status}, expected ${sent.expect.join(' or ')}: ${answer.text.slice(0, 300)}`);
  if (sent.fhir && answer.status >= 400 && !isOutcome(answer.text))
    found('not-an-outcome', `${answer.status} answered with ${answer.text.slice(0, 200)}`);
  for (const m of forbiddenMarkers(markers, sent.caller, sent.service)) {
    if (answer.text.includes(m.text))
      found('leak', `shows ${m.what} (${m.orgs.join(', ')}'s) to ${describe(sent.caller)}`);
  }
  // An answer may repeat what the caller itself sent; anything else internal is a finding.
  for (const pattern of INTERNAL_PATTERNS) {
    const hit = pattern.exec(answer.text)?.[0];
    if (hit && !sent.request.includes(hit)) found('internal-detail', `shows '${hit}' (${context(answer.text, hit)})`);
  }
  for (const internal of internals) {
    if (answer.text.includes(internal) && !sent.request.includes(internal))
      found('internal-detail', `shows '${internal}' (${context(answer.text, internal)})`);
  }
  return findings;
}

/**
 * A case whose request carries a marker its caller may not see would catch its own echo: the case is
 * wrong, not the service. (A caller may send back its own data: a Task it read, with its progress.)
 */
export function caseProblems(where: string, request: string, forbidden: readonly Marker[]): Finding[] {
  return forbidden
    .filter((m) => request.includes(m.text))
    .map((m) => ({ kind: 'invalid-case' as const, where, detail: `the request itself carries ${m.what}` }));
}

function isOutcome(text: string): boolean {
  try {
    return (JSON.parse(text) as { resourceType?: unknown }).resourceType === 'OperationOutcome';
  } catch {
    return false;
  }
}

function describe(caller: Identity | undefined): string {
  return caller ? `${caller.clientId} (${caller.organisation ?? caller.kind})` : 'a caller with no valid token';
}

function context(text: string, hit: string): string {
  const at = text.indexOf(hit);
  return text.slice(Math.max(0, at - 60), at + hit.length + 60).replace(/\s+/g, ' ');
}
