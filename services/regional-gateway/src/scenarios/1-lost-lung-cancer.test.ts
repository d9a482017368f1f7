import { SCENARIO_1, SCENARIO_1_DISCHARGED_LATER } from './1-lost-lung-cancer.ts';
import { describeScenarios } from './describe.ts';

// On the embedded store, with a manual clock; conformance group 7 runs the same on HAPI FHIR.
describeScenarios([SCENARIO_1, SCENARIO_1_DISCHARGED_LATER]);
