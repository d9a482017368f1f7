import type { Bundle, MessageHeader, OperationOutcome } from '@medplum/fhirtypes';
import type { ParsedMessage } from './parse.ts';

export type ResponseCode = 'ok' | 'transient-error' | 'fatal-error';

/** The synchronous response to a processed message: a MessageHeader answering it, and an outcome. */
export function buildResponse(
  request: ParsedMessage,
  code: ResponseCode,
  outcome: OperationOutcome,
  timestamp: string,
): Bundle {
  const outcomeUrl = `urn:uuid:${crypto.randomUUID()}`;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: crypto.randomUUID(),
    eventCoding: request.header.eventCoding,
    source: { endpoint: request.destinationService },
    destination: [{ endpoint: request.sourceService }],
    response: { identifier: request.header.id as string, code, details: { reference: outcomeUrl } },
  };
  return {
    resourceType: 'Bundle',
    type: 'message',
    timestamp,
    entry: [
      { fullUrl: `urn:uuid:${header.id}`, resource: header },
      { fullUrl: outcomeUrl, resource: outcome },
    ],
  };
}
