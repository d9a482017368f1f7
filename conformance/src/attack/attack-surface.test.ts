import { SqliteStore } from '@imaging/fhir';
import { describeAttackSurface } from './suite.ts';

// The attack-surface suite on the embedded store, in the unit run; conformance group 6 runs it on HAPI FHIR.
describeAttackSurface('the embedded store', {
  open: async () => ({ store: () => new SqliteStore({ path: ':memory:' }) }),
});
