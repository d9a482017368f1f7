import type { Bundle, MessageHeader, OperationOutcomeIssue, Resource, ResourceType } from '@medplum/fhirtypes';
import {
  badRequest,
  builtFromValidated,
  bundleFindings,
  invalid,
  issue,
  OutcomeError,
  outcomeErrorFor,
  unprocessableIssues,
  wellFormedIssues,
} from '@imaging/fhir';
import type { MessageEventDefinition } from './events.ts';
import { findMessageEvent } from './events.ts';
import { mapReferences } from './build.ts';

export interface MessageEntry<T extends Resource = Resource> {
  fullUrl: string;
  resource: T;
  /** Index in Bundle.entry, for error expressions. */
  index: number;
}

export interface ParsedMessage {
  bundle: Bundle;
  header: MessageHeader;
  event: MessageEventDefinition;
  focus: MessageEntry;
  entries: MessageEntry[];
  sourceService: string;
  destinationService: string;
}

/**
 * Checks a message Bundle against its event's definition and returns its parts. Shape problems (not a
 * message, not well-formed R4, no MessageHeader, bad full URLs) are 400; content that breaks the
 * definition (unknown event, missing or extra entries, dangling references) is 422, with one issue per
 * problem. Whoever reads the parts (the authority check, the receiver) may rely on their JSON types.
 */
export function parseMessage(bundle: Bundle): ParsedMessage {
  if (bundle.resourceType !== 'Bundle' || bundle.type !== 'message') {
    throw new OutcomeError(badRequest("Expected a Bundle of type 'message'", 'Bundle.type'));
  }
  const raw = Array.isArray(bundle.entry) ? bundle.entry : [];
  const header = raw[0]?.resource;
  if (header?.resourceType !== 'MessageHeader') {
    throw new OutcomeError(
      badRequest('The first entry of a message must be its MessageHeader', 'Bundle.entry[0].resource'),
    );
  }
  const shape: OperationOutcomeIssue[] = [];
  const entries: MessageEntry[] = [];
  const seen = new Set<string>();
  raw.slice(1).forEach((entry, i) => {
    const index = i + 1;
    if (!entry?.resource)
      shape.push(
        issue({ text: 'Entry has no resource', code: 'required', expression: `Bundle.entry[${index}].resource` }),
      );
    else if (typeof entry.fullUrl !== 'string' || !entry.fullUrl.startsWith('urn:uuid:') || seen.has(entry.fullUrl)) {
      shape.push(
        issue({
          text: 'Each entry needs its own urn:uuid fullUrl',
          code: 'invalid',
          expression: `Bundle.entry[${index}].fullUrl`,
        }),
      );
    } else {
      seen.add(entry.fullUrl);
      entries.push({ fullUrl: entry.fullUrl, resource: entry.resource, index });
    }
  });
  if (!header.source?.endpoint)
    shape.push(
      issue({
        text: 'MessageHeader.source.endpoint is required',
        code: 'required',
        expression: 'Bundle.entry[0].resource.source.endpoint',
      }),
    );
  if (!header.destination?.[0]?.endpoint) {
    shape.push(
      issue({
        text: 'MessageHeader.destination[0].endpoint is required',
        code: 'required',
        expression: 'Bundle.entry[0].resource.destination[0].endpoint',
      }),
    );
  }
  // Base R4 structure too, so whoever reads the parts may rely on JSON types; a problem the checks above
  // already named is not named again.
  const named = shape.flatMap((i) => i.expression ?? []);
  const overlaps = (e: string) => named.some((n) => n.startsWith(e) || e.startsWith(n));
  shape.push(...wellFormedIssues(bundle).filter((i) => !i.expression?.some(overlaps)));
  if (shape.length) throw new OutcomeError(invalid(shape));

  const event = findMessageEvent(header.eventCoding?.system, header.eventCoding?.code);
  if (!event) {
    throw new OutcomeError(
      unprocessableIssues([
        issue({
          text: `Unknown message event ${header.eventCoding?.system ?? '?'}|${header.eventCoding?.code ?? '?'}`,
          code: 'not-supported',
          expression: 'Bundle.entry[0].resource.eventCoding',
        }),
      ]),
    );
  }
  const problems = [...checkEntries(event, entries), ...checkReferences(entries, seen)];
  const focusUrl = header.focus?.[0]?.reference;
  const focus = entries.find((e) => e.fullUrl === focusUrl);
  if (!focus || focus.resource.resourceType !== event.focus) {
    problems.push(
      issue({
        text: `The focus must be the message's ${event.focus} entry`,
        code: 'business-rule',
        expression: 'Bundle.entry[0].resource.focus[0]',
      }),
    );
  }
  if (problems.length || !focus) throw new OutcomeError(unprocessableIssues(problems));
  return {
    bundle,
    header,
    event,
    focus,
    entries,
    sourceService: header.source?.endpoint as string,
    destinationService: header.destination?.[0]?.endpoint as string,
  };
}

/**
 * Validates a received message in full, once, at the trust boundary: the whole Bundle against base R4,
 * which covers each resource it carries as if it were validated alone (the parse's own check of the
 * Bundle, remembered, so it is not made again), and `copied` (the entries the receiver stores copies
 * of) against our profiles too, their references to other entries resolved by full URL. Throws a 400
 * for structure, else a 422, each problem at its place in the message.
 *
 * The Bundle (to be stored as the receipt) and each entry in `copied` are then marked as validated
 * (`builtFromValidated`): what the receiver builds from them, while they are unchanged, is stored
 * without being validated again. The other entries are not marked: they are checked against base R4
 * only, so what is built from them is validated when stored.
 */
export function validateReceived(message: ParsedMessage, copied: readonly MessageEntry[]): void {
  const error = outcomeErrorFor(
    bundleFindings(
      message.bundle,
      copied.map((e) => e.index),
    ),
  );
  if (error) throw error;
  builtFromValidated(message.bundle);
  for (const entry of copied) builtFromValidated(entry.resource);
}

function checkEntries(event: MessageEventDefinition, entries: MessageEntry[]): OperationOutcomeIssue[] {
  const problems: OperationOutcomeIssue[] = [];
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(e.resource.resourceType, (counts.get(e.resource.resourceType) ?? 0) + 1);
  for (const [type, { min, max }] of Object.entries(event.entries)) {
    const n = counts.get(type) ?? 0;
    if (n < min || n > max) {
      problems.push(
        issue({
          text: `A ${event.code} message carries ${min === max ? min : `${min} to ${max}`} ${type}, not ${n}`,
          code: 'business-rule',
          expression: 'Bundle.entry',
        }),
      );
    }
  }
  for (const e of entries) {
    if (!(e.resource.resourceType in event.entries)) {
      problems.push(
        issue({
          text: `A ${event.code} message may not carry a ${e.resource.resourceType}`,
          code: 'business-rule',
          expression: `Bundle.entry[${e.index}].resource`,
        }),
      );
    }
  }
  return problems;
}

/** Inside a message, a reference is either to another entry (urn:uuid), logical (by identifier) or contained. */
function checkReferences(entries: MessageEntry[], fullUrls: Set<string>): OperationOutcomeIssue[] {
  const problems: OperationOutcomeIssue[] = [];
  for (const e of entries) {
    mapReferences(e.resource, (ref) => {
      const target = ref.reference;
      if (target && !target.startsWith('#') && !(target.startsWith('urn:uuid:') && fullUrls.has(target))) {
        problems.push(
          issue({
            text: `Reference '${target}' is neither an entry of this message nor a logical reference by identifier`,
            code: 'business-rule',
            expression: `Bundle.entry[${e.index}].resource`,
          }),
        );
      }
      return ref;
    });
  }
  return problems;
}

/** The carried entries of one resource type. */
export function entriesOf<T extends Resource>(
  message: ParsedMessage,
  type: T['resourceType'] & ResourceType,
): MessageEntry<T>[] {
  return message.entries.filter((e) => e.resource.resourceType === type) as MessageEntry<T>[];
}
