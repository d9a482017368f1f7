import { STATUS_CODES } from 'node:http';

/**
 * The API guide's examples (docs/api.md), as a test runs them. Each example is a fenced `http` request
 * followed by a fenced `http` response, in the order they run:
 *
 *     ```http                                     ```http check="resourceType status" save="ORDER_ID=id"
 *     POST http://127.0.0.1:4101/fhir/…           HTTP/1.1 201 Created
 *     Authorization: Bearer {{TOKEN_GP_N81001}}   Location: http://127.0.0.1:4101/fhir/…/{{ORDER_ID}}/…
 *
 *     { …the body… }                              { …the real body… }
 *     ```                                         ```
 *
 * `{{NAME}}` is filled in from what earlier responses saved (`save="NAME=path"`), or by the runner
 * (`TOKEN_<CLIENT>`, `ASSERTION_<CLIENT>`). URLs are written for the default ports (hub 4000, gateways
 * 4101-4103) and moved to wherever the topology runs. A response must have the status shown, every
 * header shown, and the value shown at each `check` path; the rest of the body is what one real run gave.
 * `poll` on a request repeats it until its response matches (for what travels between regions), and
 * `show="key …"` on a response shows only those members of its body.
 */

export interface GuideRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
}

export interface GuideResponse {
  status: number;
  headers: [string, string][];
  /** The body shown, parsed (JSON), or undefined when none is shown. */
  body?: unknown;
}

export interface GuideExample {
  /** The `## ` heading the example is under. */
  section: string;
  /** 1-based line of the request's fence, for messages. */
  line: number;
  request: GuideRequest;
  /** Seconds to keep repeating the request until its response matches; 0: once. */
  pollSeconds: number;
  response: GuideResponse;
  /** Body paths whose values must be as shown. */
  check: string[];
  /** Variables to set from the response body: name → path. */
  save: [string, string][];
  /** Top-level members of the body to show (all when undefined). */
  show?: string[];
  /** 0-based line range of the response fence's content (between the fences). */
  responseLines: { start: number; end: number };
}

export class GuideFormatError extends Error {
  constructor(line: number, message: string) {
    super(`docs/api.md line ${line}: ${message}`);
    this.name = 'GuideFormatError';
  }
}

const FENCE = /^```(\S*)(.*)$/;
const REQUEST_LINE = /^(GET|POST|PUT|DELETE|PATCH) (\S+)$/;
const STATUS_LINE = /^HTTP\/1\.1 (\d{3})\b/;
const DEFAULT_POLL_SECONDS = 60;

/** Every example of the guide, in order; a malformed `http` block is an error, never skipped. */
export function parseGuide(markdown: string): GuideExample[] {
  const lines = markdown.split('\n');
  const examples: GuideExample[] = [];
  let section = '';
  let pending: { line: number; request: GuideRequest; pollSeconds: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (text.startsWith('## ')) section = text.slice(3).trim();
    const fence = FENCE.exec(text);
    if (!fence) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !(lines[end] as string).startsWith('```')) end++;
    if (end >= lines.length) throw new GuideFormatError(i + 1, 'a fence that is never closed');
    i = end;
    if (fence[1] !== 'http') continue;
    const attributes = attributesOf(fence[2] ?? '', start);
    const block = lines.slice(start, end);
    const first = block[0] ?? '';
    if (REQUEST_LINE.test(first)) {
      if (pending) throw new GuideFormatError(pending.line, 'a request without its response');
      const poll = attributes.get('poll');
      const pollSeconds = poll === undefined ? 0 : poll === '' ? DEFAULT_POLL_SECONDS : Number(poll);
      if (!(pollSeconds >= 0)) throw new GuideFormatError(start, `poll="${poll}" is not a number of seconds`);
      pending = { line: start, request: parseRequest(block, start), pollSeconds };
    } else if (STATUS_LINE.test(first)) {
      if (!pending) throw new GuideFormatError(start, 'a response without a request before it');
      examples.push({
        section,
        line: pending.line,
        request: pending.request,
        pollSeconds: pending.pollSeconds,
        response: parseResponse(block, start),
        check: words(attributes.get('check')),
        save: words(attributes.get('save')).map((pair) => {
          const [name, path] = pair.split('=');
          if (!name || !path) throw new GuideFormatError(start, `save="${pair}" is not NAME=path`);
          return [name, path];
        }),
        ...(attributes.has('show') ? { show: words(attributes.get('show')) } : {}),
        responseLines: { start, end },
      });
      pending = undefined;
    } else {
      throw new GuideFormatError(
        start,
        `an http block must start with "METHOD URL" or "HTTP/1.1 status", not "${first}"`,
      );
    }
  }
  if (pending) throw new GuideFormatError(pending.line, 'a request without its response');
  return examples;
}

function attributesOf(info: string, line: number): Map<string, string> {
  const attributes = new Map<string, string>();
  const rest = info.replace(/(\w+)(?:="([^"]*)")?/g, (_all, name: string, value?: string) => {
    attributes.set(name, value ?? '');
    return '';
  });
  if (rest.trim()) throw new GuideFormatError(line, `cannot read the fence's attributes: ${info.trim()}`);
  return attributes;
}

const words = (value: string | undefined): string[] => (value ?? '').split(/\s+/).filter(Boolean);

function headersAndBody(block: string[], line: number): { headers: [string, string][]; body?: string } {
  const blank = block.indexOf('', 1);
  const headerLines = block.slice(1, blank < 0 ? undefined : blank);
  const headers = headerLines.map((h, i): [string, string] => {
    const colon = h.indexOf(':');
    if (colon < 1) throw new GuideFormatError(line + 2 + i, `not a header: "${h}"`);
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  });
  const body =
    blank < 0
      ? ''
      : block
          .slice(blank + 1)
          .join('\n')
          .trim();
  return body ? { headers, body } : { headers };
}

function parseRequest(block: string[], line: number): GuideRequest {
  const [, method, url] = REQUEST_LINE.exec(block[0] ?? '') as RegExpExecArray;
  return { method: method as string, url: url as string, ...headersAndBody(block, line) };
}

function parseResponse(block: string[], line: number): GuideResponse {
  const status = Number(STATUS_LINE.exec(block[0] ?? '')?.[1]);
  const { headers, body } = headersAndBody(block, line);
  if (body === undefined) return { status, headers };
  try {
    return { status, headers, body: JSON.parse(body) };
  } catch (err) {
    throw new GuideFormatError(line, `the response body is not JSON: ${(err as Error).message}`);
  }
}

/**
 * The value at a path such as `entry[0].resource.id` (undefined when any step is missing). A resource type as
 * the index, `entry[Task].resource.status`, picks the first element that is, or whose `resource` is, of that
 * type: FHIR fixes no order among a search's included resources, and servers differ (HAPI FHIR's varies).
 */
export function valueAt(value: unknown, path: string): unknown {
  let node = value;
  for (const step of path.split('.')) {
    const [, key, indexes] = /^([^[]*)((?:\[(?:\d+|[A-Z][A-Za-z]+)\])*)$/.exec(step) ?? [];
    if (key === undefined) return undefined;
    if (key) node = (node as Record<string, unknown> | undefined)?.[key];
    for (const index of (indexes ?? '').match(/[^[\]]+/g) ?? []) node = elementAt(node, index);
    if (node === undefined) return undefined;
  }
  return node;
}

function elementAt(node: unknown, index: string): unknown {
  if (!Array.isArray(node)) return undefined;
  if (/^\d+$/.test(index)) return node[Number(index)];
  const typeOf = (e: { resourceType?: string; resource?: { resourceType?: string } } | undefined) =>
    e?.resource?.resourceType ?? e?.resourceType;
  return node.find((e) => typeOf(e) === index);
}

const PLACEHOLDER = /\{\{([A-Z0-9_]+)\}\}/g;

/** The placeholder names a text uses, each once. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))];
}

/** The text with every `{{NAME}}` filled in; an unknown name is an error naming it. */
export function fill(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(PLACEHOLDER, (_all, name: string) => {
    const value = values.get(name);
    if (value === undefined) throw new Error(`{{${name}}} is not known here: no earlier example saved it`);
    return value;
  });
}

/**
 * The guide's URLs (default ports) and the running topology's: `toActual` for what is sent, `toGuide`
 * for what came back.
 */
export interface UrlMap {
  toActual(text: string): string;
  toGuide(text: string): string;
}

export function urlMap(pairs: [guide: string, actual: string][]): UrlMap {
  const swap = (text: string, from: 0 | 1) =>
    pairs.reduce((t, pair) => t.replaceAll(pair[from], pair[from === 0 ? 1 : 0]), text);
  return { toActual: (text) => swap(text, 0), toGuide: (text) => swap(text, 1) };
}

export interface ActualResponse {
  status: number;
  headers: Headers;
  /** The body as the guide would show it: parsed JSON with the guide's URLs, or undefined when empty. */
  body?: unknown;
}

/**
 * Each way the response differs from what the guide shows: the status, each header shown, the value at
 * each checked path. `update` (the guide's responses are being written again) leaves out the headers and
 * the checked paths the guide shows no value at yet.
 */
export function differences(
  example: GuideExample,
  actual: ActualResponse,
  values: ReadonlyMap<string, string>,
  mode: 'check' | 'update' = 'check',
): string[] {
  const problems: string[] = [];
  const { response } = example;
  if (actual.status !== response.status) problems.push(`status ${actual.status}, not ${response.status}`);
  for (const [name, shown] of mode === 'check' ? response.headers : []) {
    const expected = fill(shown, values);
    const got = actual.headers.get(name);
    if (got !== expected) problems.push(`header ${name}: ${got ?? '(none)'}, not ${expected}`);
  }
  for (const path of example.check) {
    if (mode === 'update' && valueAt(response.body, path) === undefined) continue;
    const expected = JSON.parse(fill(JSON.stringify(valueAt(response.body, path) ?? null), values));
    const got = valueAt(actual.body, path) ?? null;
    if (JSON.stringify(got) !== JSON.stringify(expected))
      problems.push(`${path}: ${JSON.stringify(got)}, not ${JSON.stringify(expected)}`);
  }
  return problems;
}

/** The variables an example's response sets (`save`), and each it cannot because the response lacks it. */
export function savedValues(
  example: GuideExample,
  actual: ActualResponse,
): { saved: [string, string][]; missing: string[] } {
  const saved: [string, string][] = [];
  const missing: string[] = [];
  for (const [name, path] of example.save) {
    const value = valueAt(actual.body, path);
    if (value === undefined || value === null || typeof value === 'object')
      missing.push(`save ${name}=${path}: the response has no value there`);
    else saved.push([name, String(value)]);
  }
  return { saved, missing };
}

/** The headers a written response shows, when the real one has them. */
export const SHOWN_HEADERS = ['Content-Type', 'Location', 'ETag', 'Preference-Applied', 'WWW-Authenticate'];

/** Values this short (versions, counts) stay as they are when a response is written into the guide. */
const MIN_PLACEHOLDER_LENGTH = 6;

/**
 * A response block's content, written from a real response: its status line, the headers it has of
 * SHOWN_HEADERS, and its body (only the `show` members), with every known value written as its `{{NAME}}`.
 */
export function renderResponse(
  example: Pick<GuideExample, 'show'>,
  actual: ActualResponse,
  values: ReadonlyMap<string, string>,
): string[] {
  const known = [...values]
    .filter(([, value]) => value.length >= MIN_PLACEHOLDER_LENGTH)
    .sort(([, a], [, b]) => b.length - a.length);
  const named = (text: string) => known.reduce((t, [name, value]) => t.replaceAll(value, `{{${name}}}`), text);
  const lines = [`HTTP/1.1 ${actual.status} ${STATUS_CODES[actual.status] ?? ''}`.trimEnd()];
  for (const header of SHOWN_HEADERS) {
    const value = actual.headers.get(header);
    if (value !== null) lines.push(`${header}: ${named(value)}`);
  }
  if (actual.body !== undefined) {
    const body =
      example.show && actual.body && typeof actual.body === 'object'
        ? Object.fromEntries(
            Object.entries(actual.body).filter(([key]) => key === 'resourceType' || example.show?.includes(key)),
          )
        : actual.body;
    lines.push('', ...named(formatJson(body)).split('\n'));
  }
  return lines;
}

/**
 * JSON as a person lays it out: a value that fits on the rest of its line stays on one line
 * (`{ "system": "…", "value": "…" }`), anything longer is spread over lines, two spaces a level.
 */
export function formatJson(value: unknown, indent = '', room = 110 - indent.length): string {
  const flat = oneLine(value);
  if (flat.length <= room || value === null || typeof value !== 'object') return flat;
  const inner = `${indent}  `;
  if (Array.isArray(value)) return `[\n${value.map((v) => `${inner}${formatJson(v, inner)}`).join(',\n')}\n${indent}]`;
  const members = Object.entries(value as Record<string, unknown>).map(([key, v]) => {
    const name = `${JSON.stringify(key)}: `;
    return `${inner}${name}${formatJson(v, inner, 110 - inner.length - name.length)}`;
  });
  return `{\n${members.join(',\n')}\n${indent}}`;
}

function oneLine(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(oneLine).join(', ')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const members = Object.entries(value).map(([key, v]) => `${JSON.stringify(key)}: ${oneLine(v)}`);
  return members.length ? `{ ${members.join(', ')} }` : '{}';
}

/** The guide with each example's response block replaced by the given lines (examples in guide order). */
export function rewriteResponses(markdown: string, blocks: { example: GuideExample; lines: string[] }[]): string {
  const lines = markdown.split('\n');
  for (const { example, lines: content } of [...blocks].sort((a, b) => b.example.line - a.example.line)) {
    const { start, end } = example.responseLines;
    lines.splice(start, end - start, ...content);
  }
  return lines.join('\n');
}

/** What running the guide needs: the variables so far, the URL map, and the values made on demand. */
export interface GuideRun {
  values: Map<string, string>;
  urls: UrlMap;
  /** A value the runner makes when asked (a token, a client assertion), or undefined for a name it does not make. */
  dynamic(name: string): Promise<string | undefined>;
}

/**
 * Sends an example's request (again, while it polls and the response does not match yet) and sets what
 * it saves. `update` is for a guide whose responses are being written again (see `differences`).
 */
export async function runExample(
  example: GuideExample,
  run: GuideRun,
  mode: 'check' | 'update' = 'check',
): Promise<{ actual: ActualResponse; problems: string[] }> {
  const deadline = performance.now() + example.pollSeconds * 1000;
  for (;;) {
    const actual = await send(example.request, run);
    const { saved, missing } = savedValues(example, actual);
    // What the response saves may be shown in it (its own id in its Location).
    const problems = [...differences(example, actual, new Map([...run.values, ...saved]), mode), ...missing];
    if (!problems.length) for (const [name, value] of saved) run.values.set(name, value);
    if (!problems.length || performance.now() >= deadline) return { actual, problems };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function send(request: GuideRequest, run: GuideRun): Promise<ActualResponse> {
  const texts = [request.url, ...request.headers.map(([, value]) => value), request.body ?? ''];
  const values = new Map(run.values);
  for (const name of placeholdersIn(texts.join('\n'))) {
    if (values.has(name)) continue;
    const made = await run.dynamic(name);
    if (made !== undefined) values.set(name, made);
  }
  const filled = (text: string) => run.urls.toActual(fill(text, values));
  const res = await fetch(filled(request.url), {
    method: request.method,
    headers: request.headers.map(([name, value]) => [name, filled(value)]),
    ...(request.body ? { body: filled(request.body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = run.urls.toGuide(await res.text());
  const headers = new Headers();
  for (const [name, value] of res.headers) headers.set(name, run.urls.toGuide(value));
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: res.status, headers, ...(body === undefined ? {} : { body }) };
}
