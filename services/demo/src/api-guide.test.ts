import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { devTopology } from '@imaging/config';
import { ALERT_CATEGORIES, nextStatuses, TASK_STATUSES } from '@imaging/fhir';
import { describe, expect, it } from 'vitest';
import type { GuideExample } from './api-guide.ts';
import {
  differences,
  fill,
  formatJson,
  GuideFormatError,
  parseGuide,
  renderResponse,
  rewriteResponses,
  savedValues,
  urlMap,
  valueAt,
} from './api-guide.ts';
import { REPO_ROOT } from './world.ts';

const fence = '```';
const GUIDE = [
  '# Guide',
  '## Orders',
  'Place one:',
  `${fence}http poll`,
  'POST http://127.0.0.1:4101/fhir/ServiceRequest',
  'Authorization: Bearer {{TOKEN_GP_N81001}}',
  '',
  '{ "resourceType": "ServiceRequest" }',
  fence,
  '',
  `${fence}http check="resourceType status" save="ORDER_ID=id"`,
  'HTTP/1.1 201 Created',
  'Location: http://127.0.0.1:4101/fhir/ServiceRequest/{{ORDER_ID}}/_history/1',
  '',
  '{ "resourceType": "ServiceRequest", "id": "{{ORDER_ID}}", "status": "active", "meta": { "versionId": "1" } }',
  fence,
  '## Reads',
  `${fence}sh`,
  'not an example',
  fence,
  `${fence}http`,
  'GET http://127.0.0.1:4101/fhir/ServiceRequest/{{ORDER_ID}}',
  fence,
  `${fence}http`,
  'HTTP/1.1 404 Not Found',
  fence,
].join('\n');

const example = (): GuideExample => parseGuide(GUIDE)[0] as GuideExample;
const response = (status: number, body?: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers: new Headers(headers),
  ...(body === undefined ? {} : { body }),
});

describe('the API guide, read as examples', () => {
  it('reads each request with its response, under its section, with its attributes', () => {
    const [first, second] = parseGuide(GUIDE);
    expect(first).toMatchObject({
      section: 'Orders',
      line: 4,
      request: {
        method: 'POST',
        url: 'http://127.0.0.1:4101/fhir/ServiceRequest',
        headers: [['Authorization', 'Bearer {{TOKEN_GP_N81001}}']],
        body: '{ "resourceType": "ServiceRequest" }',
      },
      pollSeconds: 60,
      response: { status: 201, body: { resourceType: 'ServiceRequest', id: '{{ORDER_ID}}' } },
      check: ['resourceType', 'status'],
      save: [['ORDER_ID', 'id']],
    });
    expect(second).toMatchObject({ section: 'Reads', pollSeconds: 0, response: { status: 404, headers: [] } });
    expect(second?.response.body).toBeUndefined();
    expect(second?.request.body).toBeUndefined();
  });

  it.each([
    [
      'a request without its response',
      `${fence}http\nGET http://x/fhir/Task\n${fence}\n`,
      /a request without its response/,
    ],
    ['a response with no request', `${fence}http\nHTTP/1.1 200 OK\n${fence}\n`, /a response without a request/],
    ['an http block of neither kind', `${fence}http\ncurl http://x\n${fence}\n`, /must start with "METHOD URL"/],
    ['a fence never closed', `${fence}http\nGET http://x/fhir/Task\n`, /never closed/],
    [
      'a body that is not JSON',
      `${fence}http\nGET http://x\n${fence}\n${fence}http\nHTTP/1.1 200 OK\n\n{ no\n${fence}\n`,
      /not JSON/,
    ],
    ['a poll that is not seconds', `${fence}http poll="soon"\nGET http://x\n${fence}\n`, /not a number of seconds/],
    [
      'an unreadable attribute',
      `${fence}http\nGET http://x\n${fence}\n${fence}http check=[a]\nHTTP/1.1 200 OK\n${fence}\n`,
      /attributes/,
    ],
  ])('refuses %s, naming the line', (_what, markdown, message) => {
    expect(() => parseGuide(markdown)).toThrow(GuideFormatError);
    expect(() => parseGuide(markdown)).toThrow(message);
  });

  it('finds values by path, and fills placeholders or names the unknown one', () => {
    const bundle = { entry: [{ resource: { id: 'a', meta: { tag: [{ code: 'X' }] } } }] };
    expect(valueAt(bundle, 'entry[0].resource.id')).toBe('a');
    expect(valueAt(bundle, 'entry[0].resource.meta.tag[0].code')).toBe('X');
    expect(valueAt(bundle, 'entry[1].resource.id')).toBeUndefined();
    // By resource type, whatever the order the server gave.
    const included = {
      entry: [
        { resource: { resourceType: 'ServiceRequest', id: 's' } },
        { resource: { resourceType: 'DiagnosticReport', id: 'r' } },
        { resource: { resourceType: 'Task', id: 't1' } },
        { resource: { resourceType: 'Task', id: 't2' } },
      ],
    };
    expect(valueAt(included, 'entry[Task].resource.id')).toBe('t1');
    expect(valueAt(included, 'entry[DiagnosticReport].resource.id')).toBe('r');
    expect(valueAt(included, 'entry[ImagingStudy].resource.id')).toBeUndefined();
    expect(valueAt({ contained: [{ resourceType: 'Patient', id: 'p' }] }, 'contained[Patient].id')).toBe('p');
    expect(fill('Task?focus=ServiceRequest/{{ORDER_ID}}', new Map([['ORDER_ID', 'o1']]))).toBe(
      'Task?focus=ServiceRequest/o1',
    );
    expect(() => fill('{{TASK_ID}}', new Map())).toThrow('{{TASK_ID}} is not known here');
  });

  it('moves the guide URLs to the running ports and back', () => {
    const urls = urlMap([
      ['http://127.0.0.1:4000', 'http://127.0.0.1:24000'],
      ['http://127.0.0.1:4101', 'http://127.0.0.1:24101'],
    ]);
    expect(urls.toActual('GET http://127.0.0.1:4101/fhir/Task and http://127.0.0.1:4000')).toBe(
      'GET http://127.0.0.1:24101/fhir/Task and http://127.0.0.1:24000',
    );
    expect(urls.toGuide('http://127.0.0.1:24101/fhir/Task')).toBe('http://127.0.0.1:4101/fhir/Task');
  });

  it('compares the status, every header shown and each checked path, and nothing else', () => {
    const values = new Map([['ORDER_ID', 'o1']]);
    const location = { Location: 'http://127.0.0.1:4101/fhir/ServiceRequest/o1/_history/1' };
    const same = response(201, { resourceType: 'ServiceRequest', id: 'o1', status: 'active', meta: {} }, location);
    expect(differences(example(), same, values)).toEqual([]);
    const other = response(200, { resourceType: 'ServiceRequest', status: 'revoked', meta: { versionId: '9' } });
    expect(differences(example(), other, values)).toEqual([
      'status 200, not 201',
      'header Location: (none), not http://127.0.0.1:4101/fhir/ServiceRequest/o1/_history/1',
      'status: "revoked", not "active"',
    ]);
    // Writing the guide again: the status and what the guide already pins, not the headers.
    expect(differences(example(), { ...other, status: 201 }, values, 'update')).toEqual([
      'status: "revoked", not "active"',
    ]);
  });

  it('saves what the response has, and says what it lacks', () => {
    expect(savedValues(example(), response(201, { id: 'o1' }))).toEqual({ saved: [['ORDER_ID', 'o1']], missing: [] });
    expect(savedValues(example(), response(201, {})).missing).toEqual([
      'save ORDER_ID=id: the response has no value there',
    ]);
  });

  it('writes a real response back as the guide shows it: shown headers, known values by name', () => {
    const lines = renderResponse(
      { show: ['status'] },
      response(
        201,
        { resourceType: 'ServiceRequest', id: 'order-1234', status: 'active', meta: { versionId: '1' } },
        {
          Location: 'http://127.0.0.1:4101/fhir/ServiceRequest/order-1234/_history/1',
          'X-Request-ID': 'r1',
          ETag: 'W/"1"',
        },
      ),
      new Map([
        ['ORDER_ID', 'order-1234'],
        ['VERSION', '1'],
      ]),
    );
    expect(lines).toEqual([
      'HTTP/1.1 201 Created',
      'Location: http://127.0.0.1:4101/fhir/ServiceRequest/{{ORDER_ID}}/_history/1',
      'ETag: W/"1"',
      '',
      '{ "resourceType": "ServiceRequest", "status": "active" }',
    ]);
    const rewritten = rewriteResponses(GUIDE, [{ example: example(), lines }]);
    expect(parseGuide(rewritten)[0]?.response.body).toEqual({ resourceType: 'ServiceRequest', status: 'active' });
    expect(parseGuide(rewritten)[1]?.response.status).toBe(404);
  });

  it('lays JSON out on one line where it fits, over lines where it does not', () => {
    const long = { text: 'x'.repeat(120), list: [1, 2], empty: {}, none: [] };
    expect(formatJson({ a: [1, 2], b: { c: 'd' } })).toBe('{ "a": [1, 2], "b": { "c": "d" } }');
    expect(formatJson(long)).toBe(
      `{\n  "text": "${'x'.repeat(120)}",\n  "list": [1, 2],\n  "empty": {},\n  "none": []\n}`,
    );
    expect(JSON.parse(formatJson(long))).toEqual(long);
  });
});

describe('docs/api.md, against the code it describes', () => {
  const guide = readFileSync(join(REPO_ROOT, 'docs/api.md'), 'utf8');
  /** The rows of the guide's table whose header row starts with `| <first> |`. */
  const table = (first: string): string[][] => {
    const lines = guide.split('\n');
    const start = lines.findIndex((line) => new RegExp(`^\\|\\s*${first}\\s*\\|`).test(line));
    const rows: string[][] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(
        line
          .split('|')
          .slice(1, -1)
          .map((cell) => cell.trim()),
      );
    }
    return rows;
  };
  const codes = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);

  it('has examples in every section it tests, and runs them in a topology as documented', () => {
    const examples = parseGuide(guide);
    expect(examples.length).toBeGreaterThan(50);
    expect(guide).toContain('npm run demo -- --no-scenario');
  });

  it('gives the Task transitions the lifecycle allows, every one of them', () => {
    const documented = new Map(
      table('from').flatMap(([from, to]) => codes(from as string).map((status) => [status, codes(to as string)])),
    );
    expect([...documented.keys()].sort()).toEqual(TASK_STATUSES.filter((s) => s !== 'entered-in-error').sort());
    for (const [from, to] of documented) expect(to.sort(), from).toEqual([...nextStatuses(from as never)].sort());
  });

  it('gives the alert categories a report may carry, and no other', () => {
    expect(table('code').map(([code]) => codes(code as string)[0])).toEqual([...ALERT_CATEGORIES]);
  });

  it("gives each dev client's scopes as the development topology registers them", () => {
    const rows = table('client').map(([client, , , scopes]) => [
      codes(client as string)[0] as string,
      scopes as string,
    ]);
    const scopesOf = new Map<string, string[]>();
    for (const [client, cell] of rows) {
      const same = /the same as `([^`]+)`/.exec(cell as string)?.[1];
      const listed = codes(cell as string)[0]?.split(' ') ?? [];
      // `system/Patient.crs ServiceRequest.crs`: the prefix is written once.
      const expanded = listed.map((scope) => (scope.includes('/') ? scope : `system/${scope}`));
      scopesOf.set(client as string, same ? (scopesOf.get(same) ?? []) : expanded);
    }
    const topology = devTopology();
    expect(scopesOf.size).toBeGreaterThanOrEqual(5);
    for (const [client, scopes] of scopesOf)
      expect(scopes.sort(), client).toEqual([...(topology.clients.find((c) => c.id === client)?.scopes ?? [])].sort());
  });
});
