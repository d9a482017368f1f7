import { SCENARIO_1 } from './1-lost-lung-cancer.ts';
import { describeScenarios } from './describe.ts';

// On the embedded store, with a manual clock; conformance group 7 runs the same on HAPI FHIR.
describeScenarios([SCENARIO_1]);
