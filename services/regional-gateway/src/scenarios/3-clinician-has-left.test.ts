import { SCENARIO_3 } from './3-clinician-has-left.ts';
import { describeScenarios } from './describe.ts';

// On the embedded store, with a manual clock; conformance group 7 runs the same on HAPI FHIR.
describeScenarios([SCENARIO_3]);
