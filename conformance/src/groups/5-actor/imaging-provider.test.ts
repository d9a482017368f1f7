import { describeActorTests } from '../../actor/scenario.ts';

/**
 * Group 5, imaging provider: the system under test takes orders routed from another region, works
 * them (through its RIS/PACS) and reports back. Without --target it is our own regional gateway, with
 * the RIS/PACS simulator working its tasks.
 */
describeActorTests('imaging-provider');
