import { describeActorTests } from '../../actor/scenario.ts';

/**
 * Group 5, referrer: the system under test routes its referrers' orders to the performer's region and
 * receives the status changes, the study and the report. Without --target it is our own regional gateway.
 */
describeActorTests('referrer');
