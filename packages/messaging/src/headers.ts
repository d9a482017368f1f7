import { createHash } from 'node:crypto';
import { invalid, issue, OutcomeError, SYSTEMS } from '@imaging/fhir';
import type { Identifier, OperationOutcomeIssue } from '@medplum/fhirtypes';

/** HTTP headers of a routed message, after BaRS. */
export const MESSAGE_HEADERS = {
  /** The receiving service's id, which the hub looks up in its directory. */
  target: 'NHSD-Target-Identifier',
  /** Fixed for one message: the same on every retry, so a repeat is recognised. */
  requestId: 'X-Request-ID',
  /** Fixed for the whole case, across every hop and every message. */
  correlationId: 'X-Correlation-ID',
} as const;

export interface RoutingHeaders {
  target: string;
  requestId: string;
  correlationId: string;
}

/** The three routing headers, as sent by a gateway to the hub and by the hub to the receiver. */
export function routingHeaders(headers: RoutingHeaders): Record<string, string> {
  return {
    [MESSAGE_HEADERS.target]: headers.target,
    [MESSAGE_HEADERS.requestId]: headers.requestId,
    [MESSAGE_HEADERS.correlationId]: headers.correlationId,
  };
}

/** The routing headers, raw from the request. */
export interface RawRoutingHeaders {
  target: string | undefined;
  requestId: string | undefined;
  correlationId: string | undefined;
}

// The characters request-context accepts for ids, so what is checked here is what gets logged.
const HEADER_ID = /^[A-Za-z0-9\-._:]{1,128}$/;

/** All three headers present and well-formed, else a 400 with one issue per bad header. */
export function checkRoutingHeaders(raw: RawRoutingHeaders): RoutingHeaders {
  const problems: OperationOutcomeIssue[] = [];
  const check = (name: string, value: string | undefined) => {
    // FHIR's convention for HTTP headers in an issue: `http.` + the header name.
    const at = { expression: [`http.${name}`], location: [`http.${name}`] };
    if (value === undefined || value === '')
      problems.push({ ...issue({ code: 'required', text: `The ${name} header is required` }), ...at });
    else if (!HEADER_ID.test(value)) {
      problems.push({
        ...issue({ code: 'value', text: `The ${name} header must be 1-128 of A-Z a-z 0-9 - . _ :` }),
        ...at,
      });
    }
  };
  check(MESSAGE_HEADERS.target, raw.target);
  check(MESSAGE_HEADERS.requestId, raw.requestId);
  check(MESSAGE_HEADERS.correlationId, raw.correlationId);
  if (problems.length) throw new OutcomeError(invalid(problems));
  return raw as RoutingHeaders;
}

/**
 * A deterministic request id for one business event (e.g. "this task reached in-progress"), so that a
 * retried request, a replayed message or a second replica doing the same work all produce the same
 * `X-Request-ID`, and every receiver recognises the repeat.
 */
export function requestIdFor(...parts: string[]): string {
  return `req-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32)}`;
}

/**
 * The identifier of an order's fulfilment Task, shared by every copy: derived from the placer order
 * number, so it lies in the requester's namespace as the order does, and a receiver can tell a Task
 * that names another order's identifier.
 */
export function fulfilmentTaskIdentifier(placer: Identifier): Identifier {
  return { system: SYSTEMS.task, value: requestIdFor('fulfilment', placer.system ?? '', placer.value ?? '') };
}

/**
 * The identifier of a report's acknowledgement Task (its alert), from the report's: the same in every
 * region and every replay. The gateway raises alerts under it and the alert-copied rule checks copies by it.
 */
export function acknowledgementTaskIdentifier(report: string): string {
  return `${report}-acknowledge`;
}

/** The key of an alert's copy for the patient's GP practice: its Communication is `<alert Task>-gp-copy`. */
export const PRACTICE_COPY_KEY = 'gp-copy';
