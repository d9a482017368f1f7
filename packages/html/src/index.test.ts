import { describe, expect, it } from 'vitest';
import { ageText, clockTime, dateTime, escapeHtml, html, nhsukStylesheet, trusted } from './index.ts';

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

describe('UK time', () => {
  it('shows a UTC instant in GMT in winter and BST in summer, and a dash for no time', () => {
    expect(dateTime('2026-01-05T09:30:00Z')).toBe('5 Jan 2026, 09:30');
    expect(dateTime('2026-07-01T07:00:00Z')).toBe('1 Jul 2026, 08:00');
    expect(clockTime('2026-07-01T07:00:05Z')).toBe('08:00:05');
    expect(dateTime(undefined)).toBe('—');
    expect(clockTime('not a time')).toBe('—');
  });

  it('says how long ago, never negative', () => {
    const now = new Date('2026-07-01T12:00:00Z');
    expect(ageText('2026-07-01T11:59:48Z', now)).toBe('12 s');
    expect(ageText('2026-07-01T11:57:00Z', now)).toBe('3 min');
    expect(ageText('2026-07-01T10:00:00Z', now)).toBe('2 h');
    expect(ageText('2026-07-01T12:00:09Z', now)).toBe('0 s');
  });
});
