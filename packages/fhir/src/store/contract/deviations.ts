export type StoreKind = 'embedded' | 'hapi';

export type DeviationId = 'search-total-optional' | 'if-match-on-missing-creates';

/** Every known, accepted difference between stores, by store kind. Keep this the only place they live. */
export const KNOWN_DEVIATIONS: Record<StoreKind, Partial<Record<DeviationId, string>>> = {
  embedded: {},
  hapi: {
    'search-total-optional':
      'HAPI leaves Bundle.total out of a paged searchset unless it has counted every match (or _total=accurate is asked for); ' +
      'the port marks total as optional, so the contract only checks it when present.',
    'if-match-on-missing-creates':
      'HAPI ignores If-Match on an update of an id that has never existed and creates the resource (201, version 1); ' +
      'RFC 7232 and the embedded store answer 412. Harmless for the services, which only send ifMatch with a version ' +
      'they have read; emulating it would take a separate, racy read before every versioned update.',
  },
};
