import { KNOWN_DEVIATIONS as STORE_CONTRACT_DEVIATIONS } from '@imaging/fhir/contract';

/**
 * Known, accepted differences between a server and what R4 (or the pathway) expects, by server kind.
 * A test that meets one passes as a *recorded deviation*: the reports name it, and it does not fail
 * the run. Nothing else may: a difference that is not listed here fails its test.
 *
 * The store contract keeps its own list (`KNOWN_DEVIATIONS` in @imaging/fhir/contract) and marks its
 * tests by name; the reports read both.
 */
export type ServerKind = 'hapi' | 'other';

export const SERVER_DEVIATIONS: Readonly<Record<ServerKind, Readonly<Record<string, string>>>> = {
  hapi: {
    'stale-if-match-409':
      'HAPI FHIR answers an update whose If-Match names a stale version with 409 Conflict; FHIR R4 (RESTful API, ' +
      'managing resource contention) says 412 Precondition Failed. HttpStore turns such a 409 into 412, so the ' +
      'services see R4 behaviour.',
  },
  other: {},
};

export interface RecordedDeviation {
  /** `<server kind>:<id>`, e.g. `hapi:stale-if-match-409`. */
  key: string;
  description: string;
}

/** The deviation `id` as recorded for `kind`, or an error naming what is known: only listed deviations pass. */
export function knownDeviation(kind: ServerKind, id: string): RecordedDeviation {
  const description = SERVER_DEVIATIONS[kind][id];
  if (!description) {
    const known = Object.keys(SERVER_DEVIATIONS[kind]);
    throw new Error(
      `'${id}' is not a recorded deviation for ${kind} servers (recorded: ${known.length ? known.join(', ') : 'none'})`,
    );
  }
  return { key: `${kind}:${id}`, description };
}

/** The store contract marks a test subject to a deviation in its name: `… [known deviation hapi:if-match-on-missing-creates]`. */
const NAMED = /\[known deviation ([a-z]+):([a-z0-9-]+)\]/;

/** The deviation a test's name carries, described, or undefined. */
export function deviationInName(name: string): RecordedDeviation | undefined {
  const m = NAMED.exec(name);
  if (!m) return undefined;
  const [, kind, id] = m as unknown as [string, string, string];
  const fromContract = (STORE_CONTRACT_DEVIATIONS as Record<string, Partial<Record<string, string>>>)[kind]?.[id];
  const fromServer = (SERVER_DEVIATIONS as Record<string, Readonly<Record<string, string>>>)[kind]?.[id];
  const description = fromContract ?? fromServer;
  // A name that claims a deviation nobody recorded is not a pass: the report shows it as unknown.
  return {
    key: `${kind}:${id}`,
    description: description ?? 'NOT RECORDED: no list of known deviations has this entry',
  };
}

/** True when a recorded deviation is listed (a name can claim one that is not). */
export function isListed(deviation: RecordedDeviation): boolean {
  return !deviation.description.startsWith('NOT RECORDED');
}

/** Every recorded deviation, for the README and the reports: `[key, description]`. */
export function allDeviations(): [string, string][] {
  const rows: [string, string][] = [];
  for (const [kind, list] of Object.entries(STORE_CONTRACT_DEVIATIONS)) {
    for (const [id, text] of Object.entries(list)) if (text) rows.push([`${kind}:${id}`, `(store contract) ${text}`]);
  }
  for (const [kind, list] of Object.entries(SERVER_DEVIATIONS)) {
    for (const [id, text] of Object.entries(list)) rows.push([`${kind}:${id}`, text]);
  }
  return rows;
}
