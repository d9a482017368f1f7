import { SCENARIO_6 } from './6-region-down.ts';
import { describeScenarios } from './describe.ts';

// On the embedded store, with a manual clock; conformance group 7 runs the same on HAPI FHIR.
describeScenarios([SCENARIO_6]);
