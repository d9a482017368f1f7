import { describe, expect, it } from 'vitest';
import { exchange, model, test } from './fixtures.ts';
import { escapeHtml, renderHtml } from './html.ts';

describe('renderHtml', () => {
  const failing = test({
    name: 'a stale If-Match is refused',
    outcome: 'failed',
    reason: 'expected 412 to be 200 <b>really</b>',
    exchanges: [
      exchange({
        request: {
          method: 'PUT',
          url: 'http://127.0.0.1:8080/fhir/conformance/Task/7',
          headers: { 'if-match': 'W/"1"' },
          body: '{"resourceType":"Task","status":"rejected"}',
        },
        response: {
          status: 409,
          headers: {},
          body: '{"resourceType":"OperationOutcome","issue":[{"diagnostics":"<script>alert(1)</script>"}]}',
        },
      }),
    ],
  });

  it('shows each test with its result, the request, the response and the reason', () => {
    const html = renderHtml(model([test({ name: 'creates once' }), failing]));
    expect(html).toContain('2. Server capability');
    expect(html).toContain('creates once');
    expect(html).toContain('PUT http://127.0.0.1:8080/fhir/conformance/Task/7');
    expect(html).toContain('if-match: W/&quot;1&quot;');
    expect(html).toContain('HTTP 409');
    expect(html).toContain('&quot;status&quot;: &quot;rejected&quot;'); // the request body, pretty-printed
    expect(html).toContain('expected 412 to be 200 &lt;b&gt;really&lt;/b&gt;');
    expect(html).toMatch(/<details class="test" open><summary><span class="badge failed">fail<\/span>/);
    expect(html).toContain('FAILED');
  });

  it('escapes whatever a server or a test said: no markup gets through', () => {
    const html = renderHtml(model([failing]));
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<b>really</b>');
  });

  it('is self-contained: inline CSS, no scripts, no external assets', () => {
    const html = renderHtml(model([failing]));
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|\ssrc=|@import|url\(/i);
  });

  it('names the server, how it was started and its start-up time; a clean run says PASSED', () => {
    const html = renderHtml(
      model([
        test(),
        test({
          outcome: 'deviation',
          reason: 'Recorded deviation hapi:x: y',
          deviation: { key: 'hapi:x', description: 'y' },
        }),
      ]),
    );
    expect(html).toContain('PASSED');
    expect(html).toContain('HAPI FHIR Server 8.8.0');
    expect(html).toContain('started in a container (testcontainers)');
    expect(html).toContain('98.8 s to the first 200 on /fhir/metadata');
    expect(html).toContain('Recorded deviations met');
    expect(html).toContain('<code>hapi:x</code>');
    expect(html).toContain('<dt>database</dt><dd>in-memory H2</dd>');
  });

  it('a run on PostgreSQL says so in its title and names its database', () => {
    const base = model([test()]);
    const description = 'PostgreSQL 15.20 (jdbc:postgresql://127.0.0.1:5432/imaging_conformance_x)';
    const html = renderHtml({
      ...base,
      title: 'imaging-connect conformance: HAPI FHIR on PostgreSQL',
      target: { ...(base.target as NonNullable<typeof base.target>), database: { kind: 'postgres', description } },
    });
    expect(html).toContain('<h1>imaging-connect conformance: HAPI FHIR on PostgreSQL');
    expect(html).toContain(`<dt>database</dt><dd>${description}</dd>`);
  });

  it('escapeHtml covers the five characters that matter', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
