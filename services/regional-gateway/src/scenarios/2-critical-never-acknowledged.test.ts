import { SCENARIO_2 } from './2-critical-never-acknowledged.ts';
import { describeScenarios } from './describe.ts';

// On the embedded store, with a manual clock; conformance group 7 runs the same on HAPI FHIR.
describeScenarios([SCENARIO_2]);
