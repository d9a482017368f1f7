import { ORDER_REQUEST, REPORT_ISSUED, TASK_UPDATE } from './events.ts';

/**
 * What a service streams on its event feed (`GET /events`, scope `flow/events`) for the flow view: what
 * moves between regions and what waits, never patient data (no names, NHS numbers or clinical text). A
 * gateway streams its deliveries, its queue and its cases' status changes and open alerts; the hub streams
 * what it routed. Each event names the service it comes from (its service id, or `national-hub`) and when.
 */
export type FlowEvent = HelloEvent | QueueEvent | DeliveryEvent | TaskStatusEvent | AlertsEvent | RoutedEvent;

/** Custom scopes: the event feed, and the full story of one case (`$case-trail`). */
export const FLOW_SCOPES = { events: 'flow/events', case: 'flow/case' } as const;

/** The service id the hub streams under. */
export const HUB_SERVICE = 'national-hub';

interface Base {
  service: string;
  /** When it happened (ISO 8601), by the service's clock. */
  at: string;
}

/** First on every stream: the subscriber is connected. */
export interface HelloEvent extends Base {
  type: 'hello';
  region?: string;
}

/** A gateway's pending deliveries: how many, and since when the oldest has waited. */
export interface QueueEvent extends Base {
  type: 'queue';
  depth: number;
  oldestQueuedAt?: string;
}

export type DeliveryState = 'pending' | 'claimed' | 'delivered' | 'failed';

/** A delivery in a gateway's outbox was queued, tried, delivered or parked. */
export interface DeliveryEvent extends Base {
  type: 'delivery';
  requestId: string;
  correlationId: string;
  /** A service id, or the national locator. */
  destination: string;
  kind: 'message' | 'pointer';
  /** The message's event code (`servicerequest-request`…), when the gateway saw the message stored. */
  event?: string;
  state: DeliveryState;
  attempts: number;
  queuedAt: string;
  deliveredAt?: string;
  /** What the last attempt came to, briefly (`attempt 2 failed: 503`). */
  progress?: string;
}

/** An order's fulfilment Task changed status in a gateway (its own change, or one a message brought). */
export interface TaskStatusEvent extends Base {
  type: 'task-status';
  correlationId: string;
  status: string;
  /** The Task's business identifier, the same in every region. */
  task: string;
}

/** An open result alert: an acknowledgement Task (`acknowledge-result`) not yet closed. */
export interface OpenAlert {
  /** The Task's business identifier, or its id. */
  task: string;
  status: string;
  /** The alert category of the report it is for, when known. */
  category?: string;
  /** When it is due: its acknowledgement, or once acknowledged (CRITICAL, CANCER) the action taken. */
  dueAt?: string;
  /** Where it stands on its escalation ladder (the Task's businessStatus). */
  step?: string;
  correlationId?: string;
  since: string;
}

/** Every open alert at a gateway, sent whole whenever one changes (there are few). */
export interface AlertsEvent extends Base {
  type: 'alerts';
  open: OpenAlert[];
}

/** The hub routed a message, or registered a pointer: from where, to where, what, and how it ended. */
export interface RoutedEvent extends Base {
  type: 'routed';
  /** The audit subtype: message-routed, pointer-registered, pointers-disclosed, content-retrieved. */
  subtype: string;
  fromRegion?: string;
  toRegion?: string;
  /** The message event code (`servicerequest-request`…), for a routed message. */
  event?: string;
  requestId?: string;
  correlationId?: string;
  /** Done; refused (a 4xx: parked by the sender, never retried); or failed (a 5xx: the sender retries). */
  result: 'ok' | 'refused' | 'failed';
  /** What the hub recorded about how it ended. */
  detail?: string;
}

/** What a moving message is, in a word the audience knows: order, status, report, pointer or alert. */
export type FlowLabel = 'order' | 'status' | 'report' | 'pointer' | 'alert' | 'message';

export function flowLabelOf(eventCode: string | undefined): FlowLabel {
  if (eventCode === ORDER_REQUEST.code) return 'order';
  if (eventCode === TASK_UPDATE.code) return 'status';
  if (eventCode === REPORT_ISSUED.code) return 'report';
  if (eventCode === 'pointer-registered' || eventCode === 'register-pointer') return 'pointer';
  if (eventCode?.startsWith('alert-')) return 'alert';
  return 'message';
}

/**
 * A delivery's progress in brief, for people: `attempt 2 failed: 503 (ECONNREFUSED)` rather than the whole
 * OperationOutcome text and the time of the next attempt. Anything else is kept, less that time.
 */
export function briefDeliveryProgress(text: string): string {
  const attempt = /^attempt \d+ failed: \d{3}/.exec(text)?.[0];
  if (!attempt) return text.replace(/; next attempt at .*$/, '');
  const cause = /(ECONN\w+|EHOSTUNREACH|ETIMEDOUT|no answer within \d+ ms)/.exec(text)?.[0];
  return cause ? `${attempt} (${cause})` : attempt;
}
