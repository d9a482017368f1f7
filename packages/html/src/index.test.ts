import { describe, expect, it } from 'vitest';
import { escapeHtml, html, nhsukStylesheet, trusted } from './index.ts';

describe('html templates', () => {
  it('escapes the five characters that can end text or an attribute', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('escapes interpolated values, keeps Html and trusted markup, and drops null, undefined and booleans', () => {
    const name = '<script>alert(1)</script>';
    const page = html`<p title="${name}">${name}${trusted('<br>')}${html`<b>${'&'}</b>`}${null}${undefined}${false}${0}</p>`;
    expect(page.value).toBe(
      '<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;<br><b>&amp;</b>0</p>',
    );
  });

  it('renders arrays of parts in order, escaping each', () => {
    expect(html`<ul>${['a<', 'b>'].map((x) => html`<li>${x}</li>`)}</ul>`.toString()).toBe(
      '<ul><li>a&lt;</li><li>b&gt;</li></ul>',
    );
  });
});

describe('nhsukStylesheet', () => {
  it('is the installed NHS.UK stylesheet without its font-face rules', () => {
    const css = nhsukStylesheet();
    expect(css).toContain('.nhsuk-header');
    expect(css).not.toContain('@font-face');
  });
});
