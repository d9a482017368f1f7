import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

/**
 * OperationOutcomes as values. Each named outcome carries its kind in `id`, and `statusOf` maps an
 * outcome to its HTTP status, so domain code never deals in status numbers.
 */

export type IssueCode = OperationOutcomeIssue['code'];
export type Severity = OperationOutcomeIssue['severity'];

const STATUS_BY_KIND: Record<string, number> = {
  ok: 200,
  created: 201,
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'not-acceptable': 406,
  conflict: 409,
  gone: 410,
  'precondition-failed': 412,
  'payload-too-large': 413,
  'precondition-required': 428,
  'unsupported-media-type': 415,
  unprocessable: 422,
  'server-error': 500,
  'bad-gateway': 502,
  unavailable: 503,
};

// For outcomes that come from elsewhere (another server) and carry no kind of ours.
const STATUS_BY_ISSUE_CODE: Partial<Record<IssueCode, number>> = {
  invalid: 400,
  structure: 400,
  required: 400,
  value: 400,
  invariant: 400,
  security: 403,
  login: 401,
  unknown: 401,
  expired: 401,
  forbidden: 403,
  suppressed: 403,
  processing: 422,
  'not-supported': 400,
  duplicate: 409,
  'multiple-matches': 412,
  'not-found': 404,
  deleted: 410,
  'too-long': 413,
  'code-invalid': 422,
  extension: 422,
  'too-costly': 400,
  'business-rule': 422,
  conflict: 409,
  transient: 503,
  'lock-error': 409,
  'no-store': 500,
  exception: 500,
  timeout: 504,
  incomplete: 500,
  throttled: 429,
  informational: 200,
};

export interface IssueInput {
  text: string;
  code?: IssueCode;
  expression?: string | string[];
  severity?: Severity;
}

/**
 * One issue. Its human text goes in both `details.text` and `diagnostics`: clients read one or the other
 * (HAPI's client puts `diagnostics` in its exception message, Medplum's and most UIs show `details.text`).
 */
export function issue({ text, code = 'invalid', expression, severity = 'error' }: IssueInput): OperationOutcomeIssue {
  const out: OperationOutcomeIssue = { severity, code, details: { text }, diagnostics: text };
  if (expression !== undefined) out.expression = Array.isArray(expression) ? expression : [expression];
  return out;
}

/** An issue built elsewhere (Medplum's validator, another server) with its text in both places, as ours have. */
export function withBothTexts(found: OperationOutcomeIssue): OperationOutcomeIssue {
  const text = found.details?.text ?? found.diagnostics;
  if (text === undefined || (found.details?.text === text && found.diagnostics === text)) return found;
  return { ...found, details: { ...found.details, text }, diagnostics: found.diagnostics ?? text };
}

export function outcomeOf(kind: string, issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', id: kind, issue: issues.map(withBothTexts) };
}

function single(kind: string, code: IssueCode, text: string, expression?: string | string[]): OperationOutcome {
  return outcomeOf(kind, [issue({ text, code, ...(expression === undefined ? {} : { expression }) })]);
}

export const allOk = (text = 'All OK'): OperationOutcome =>
  outcomeOf('ok', [issue({ text, code: 'informational', severity: 'information' })]);
export const created = (text: string): OperationOutcome =>
  outcomeOf('created', [issue({ text, code: 'informational', severity: 'information' })]);

/** 400: the request could not be parsed or fails basic FHIR rules. */
export const badRequest = (text: string, expression?: string | string[]): OperationOutcome =>
  single('bad-request', 'invalid', text, expression);
/** 400 with one issue per problem. */
export const invalid = (issues: OperationOutcomeIssue[]): OperationOutcome => outcomeOf('bad-request', issues);
/** 422: well-formed, but breaks a profile or a business rule. */
export const unprocessable = (
  text: string,
  expression?: string | string[],
  code: IssueCode = 'business-rule',
): OperationOutcome => single('unprocessable', code, text, expression);
export const unprocessableIssues = (issues: OperationOutcomeIssue[]): OperationOutcome =>
  outcomeOf('unprocessable', issues);
export const notFound = (what: string): OperationOutcome => single('not-found', 'not-found', `${what} not found`);
export const gone = (what: string): OperationOutcome => single('gone', 'deleted', `${what} has been deleted`);
export const conflict = (text: string, expression?: string | string[]): OperationOutcome =>
  single('conflict', 'conflict', text, expression);
export const preconditionFailed = (text: string): OperationOutcome => single('precondition-failed', 'conflict', text);
/** 428: a versioned update was attempted without `If-Match`. */
export const preconditionRequired = (text: string): OperationOutcome =>
  single('precondition-required', 'required', text);
export const multipleMatches = (text: string): OperationOutcome =>
  single('precondition-failed', 'multiple-matches', text);
export const unauthorized = (text: string): OperationOutcome => single('unauthorized', 'login', text);
export const forbidden = (text: string, expression?: string | string[]): OperationOutcome =>
  single('forbidden', 'forbidden', text, expression);
export const payloadTooLarge = (limitBytes: number): OperationOutcome =>
  single('payload-too-large', 'too-long', `Request body is larger than the limit of ${limitBytes} bytes`);
export const unsupportedMediaType = (text: string): OperationOutcome =>
  single('unsupported-media-type', 'not-supported', text);
/** 406: the client accepts no format this server answers in. */
export const notAcceptable = (text: string): OperationOutcome => single('not-acceptable', 'not-supported', text);
export const methodNotAllowed = (text: string): OperationOutcome => single('method-not-allowed', 'not-supported', text);
export const notSupported = (text: string, expression?: string | string[]): OperationOutcome =>
  single('bad-request', 'not-supported', text, expression);
/** 500: a bug. The text never carries a stack trace or internal detail. */
export const serverError = (text = 'Internal server error'): OperationOutcome =>
  single('server-error', 'exception', text);
export const badGateway = (text: string): OperationOutcome => single('bad-gateway', 'transient', text);
export const unavailable = (text: string): OperationOutcome => single('unavailable', 'transient', text);

/** What a client sent, cut short for an outcome's text: enough to recognise, never a page of echo. */
export function cutShort(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}

/** The HTTP status of an outcome: by its kind when it is one of ours, else by its first error issue. */
export function statusOf(outcome: OperationOutcome): number {
  const byKind = outcome.id ? STATUS_BY_KIND[outcome.id] : undefined;
  if (byKind) return byKind;
  const first = outcome.issue?.find((i) => i.severity === 'error' || i.severity === 'fatal') ?? outcome.issue?.[0];
  return (first && STATUS_BY_ISSUE_CODE[first.code]) ?? 500;
}

export function isOk(outcome: OperationOutcome): boolean {
  return statusOf(outcome) < 400;
}

/** An error that carries an OperationOutcome. Throw it from domain code; the HTTP layer renders it. */
export class OutcomeError extends Error {
  readonly outcome: OperationOutcome;
  readonly status: number;
  /**
   * What happened, for the logs only: never rendered. Where the outcome is a generic one standing for
   * another server's answer, the detail keeps that answer (its words, its address) away from clients.
   */
  readonly detail: string | undefined;
  constructor(outcome: OperationOutcome, status: number = statusOf(outcome), options: { detail?: string } = {}) {
    const text = outcome.issue?.map((i) => i.details?.text ?? i.diagnostics ?? i.code).join('; ') || `HTTP ${status}`;
    super(options.detail ? `${text} (${options.detail})` : text);
    this.name = 'OutcomeError';
    this.outcome = outcome;
    this.status = status;
    this.detail = options.detail;
  }
}

export function isOutcomeError(err: unknown): err is OutcomeError {
  return err instanceof OutcomeError;
}

/** Medplum's own error class (thrown by validateResource, parseSearchRequest) carries an outcome too. */
function medplumOutcome(err: unknown): OperationOutcome | undefined {
  if (err && typeof err === 'object' && 'outcome' in err) {
    const o = (err as { outcome?: unknown }).outcome;
    if (o && typeof o === 'object' && (o as { resourceType?: unknown }).resourceType === 'OperationOutcome') {
      return o as OperationOutcome;
    }
  }
  return undefined;
}

/**
 * Turns anything thrown into an outcome error. Known outcomes keep their status; anything else is a
 * bug and becomes a bare 500 (unlike Medplum, which maps unknown errors to 400).
 */
export function toOutcomeError(err: unknown): OutcomeError {
  if (err instanceof OutcomeError) return err;
  const fromMedplum = medplumOutcome(err);
  if (fromMedplum) return new OutcomeError({ ...fromMedplum, issue: (fromMedplum.issue ?? []).map(withBothTexts) });
  return new OutcomeError(serverError());
}

const isError = (i: OperationOutcomeIssue) => i.severity === 'error' || i.severity === 'fatal';

/**
 * The problems found with one request, collected so that the client hears of all of them in one
 * response, one issue per problem, rather than one per attempt. A check that throws a 422 is collected;
 * any other error (403, 404, 503, a bug) still ends the request at once.
 */
export class Problems {
  private readonly structure: OperationOutcomeIssue[] = [];
  private readonly rules: OperationOutcomeIssue[] = [];

  /** Business-rule and profile problems (422). */
  add(...issues: OperationOutcomeIssue[]): void {
    this.rules.push(...issues);
  }

  /** Validation findings: base R4 structure problems make the request malformed (400), the rest are 422. */
  addFindings(findings: { structure: OperationOutcomeIssue[]; rules: OperationOutcomeIssue[] }): void {
    this.structure.push(...findings.structure);
    this.rules.push(...findings.rules);
  }

  /** Runs a check; its 422 is collected (and undefined returned), anything else it throws propagates. */
  async check<T>(run: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (err) {
      if (!(err instanceof OutcomeError) || err.status !== 422) throw err;
      this.rules.push(...(err.outcome.issue ?? []));
      return undefined;
    }
  }

  get hasStructureErrors(): boolean {
    return this.structure.some(isError);
  }

  /**
   * Throws when anything collected is an error: 400 when the structure is broken, else 422. One issue per
   * element: a later problem at a place already reported (the profile repeating a domain rule) is left out.
   */
  throwIfAny(): void {
    const seen = new Set<string>();
    const once = (issues: OperationOutcomeIssue[]) =>
      issues.filter((i) => {
        const at = i.expression?.[0];
        if (at === undefined) return true;
        if (seen.has(at)) return false;
        seen.add(at);
        return true;
      });
    const structure = once(this.structure);
    const rules = once(this.rules);
    if (structure.some(isError)) throw new OutcomeError(invalid([...structure, ...rules]));
    if (rules.some(isError)) throw new OutcomeError(unprocessableIssues(rules));
  }
}
