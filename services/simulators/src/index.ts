export * from './fhir-client.ts';
export * from './dev-client.ts';
export * from './poll.ts';
export * from './referrer.ts';
export * from './ris-pacs.ts';
export * from './clinician.ts';
