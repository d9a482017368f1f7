// The clinical safety scenarios, one per file (`<id>-<name>.ts`, its test beside it): each stages a failure
// the ombudsman or HSIB found and states what the safety layer must catch, by when. The embedded tests run
// each file's scenario; conformance group 7 runs every scenario listed here on HAPI FHIR. A new scenario is
// added to SCENARIOS.
import { SCENARIO_1, SCENARIO_1_DISCHARGED_LATER } from './1-lost-lung-cancer.ts';
import { SCENARIO_2 } from './2-critical-never-acknowledged.ts';
import { SCENARIO_3 } from './3-clinician-has-left.ts';
import { SCENARIO_6 } from './6-region-down.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [
  SCENARIO_1,
  SCENARIO_1_DISCHARGED_LATER,
  SCENARIO_2,
  SCENARIO_3,
  SCENARIO_6,
];

export { describeScenarios } from './describe.ts';
export type { ScenarioRunOptions } from './describe.ts';
export { caughtAnyway, describeCatch, GUIDELINE, missedOrLate } from './scenario.ts';
export type { Catch, Scenario } from './scenario.ts';
export { scenarioTopology, scenarioWorld } from './world.ts';
export type { ScenarioWorld, ScenarioWorldOptions } from './world.ts';
