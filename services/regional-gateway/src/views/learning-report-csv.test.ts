import { describe, expect, it } from 'vitest';
import { buildLearningReport } from '../domain/learning-report.ts';
import { DEFAULT_ALERTS, DEFAULT_TURNAROUND } from '../domain/ports.ts';
import { parseQuarter } from '../domain/quarter.ts';
import { CSV_COLUMNS, csvField, learningReportCsv } from './learning-report-csv.ts';

/** An RFC 4180 reader, written apart from the writer: fields, quoted or not, records ended by CRLF. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field || record.length) throw new Error('the last record has no CRLF');
  return records;
}

/** A report with one late acknowledgement whose case id is awkward: a comma, quotes, a line break, a formula. */
function awkwardReport(correlationId: string) {
  return buildLearningReport(
    {
      organisation: 'N81001',
      region: 'north',
      quarter: parseQuarter('2026-Q3') as never,
      now: new Date('2026-10-02T00:00:00Z'),
      alerts: DEFAULT_ALERTS,
      turnaround: DEFAULT_TURNAROUND,
    },
    {
      alerts: [
        {
          id: 'a1',
          versionId: '1',
          kind: 'acknowledge-result',
          identifier: 'REP-1-acknowledge',
          correlationId,
          category: 'URGENT',
          report: { reference: 'DiagnosticReport/r1' },
          order: { reference: 'ServiceRequest/o1' },
          owner: { reference: 'Organization/N81001' },
          ownerOrganisation: 'N81001',
          performer: 'RN1',
          raisedAt: new Date('2026-08-01T08:00:00Z'),
          acknowledgementDueAt: new Date('2026-08-02T08:00:00Z'),
          acknowledgement: { at: new Date('2026-08-02T09:30:00Z'), by: { display: 'Dr Asha Patel' } },
          state: 'closed',
          step: 'delegate',
          recipients: [],
          lastModified: new Date('2026-08-02T09:30:00Z'),
        },
      ],
      watches: [],
      breaches: [],
      failSafeSteps: [],
      cases: [],
      unreadable: [],
    },
  );
}

describe('the learning report as CSV', () => {
  it('quotes a field with a comma, a quote or a line break, doubling its quotes (RFC 4180)', () => {
    const awkward = 'case "7", late\r\nand\nmore';
    const csv = learningReportCsv(awkwardReport(awkward));
    expect(csv).toContain('"case ""7"", late\r\nand\nmore"');
    const records = readCsv(csv);
    expect(records.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    const row = records.find((r) => r[0] === 'acknowledgement') as string[];
    const field = (name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];
    expect(field('correlation_id')).toBe(awkward);
    expect(field('reference')).toBe('Task/a1');
    expect(field('outcome')).toBe('late');
    expect(field('late_by_hours')).toBe('1.5');
    expect(field('due_at')).toBe('2026-08-02T08:00:00.000Z');
  });

  it('keeps a text a spreadsheet would run as a formula as text, and leaves numbers alone', () => {
    expect(csvField('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvField('@SUM(A1)')).toBe(`'@SUM(A1)`);
    expect(csvField('-1+2')).toBe(`'-1+2`);
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField(undefined)).toBe('');
    const records = readCsv(learningReportCsv(awkwardReport('=cmd|calc')));
    const row = records.find((r) => r[0] === 'acknowledgement') as string[];
    expect(row[CSV_COLUMNS.indexOf('correlation_id')]).toBe(`'=cmd|calc`);
  });

  it('ends every record, the last too, with CRLF, and starts with the header', () => {
    const csv = learningReportCsv(awkwardReport('case-1'));
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(csv.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });
});
