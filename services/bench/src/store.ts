import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './report.ts';

export interface StoreBenchResult {
  sizes: number[];
  /** The store bench's own table rows, each as header → cell. */
  rows: Record<string, string>[];
  output: string;
}

/**
 * The embedded store's own benchmark (packages/fhir/bench/store-bench.ts, which the store's engineers
 * keep), run as it is at the given sizes; its Markdown table is kept as rows.
 */
export async function runStoreBench(sizes: number[]): Promise<StoreBenchResult> {
  const script = join(REPO_ROOT, 'packages/fhir/bench/store-bench.ts');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...sizes.map(String)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      text += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(text) : reject(new Error(`store-bench.ts exited with ${code}`)),
    );
  });
  return { sizes, rows: markdownRows(output), output };
}

/** The rows of the first Markdown table in some text, keyed by its header cells. */
export function markdownRows(text: string): Record<string, string>[] {
  const lines = text.split('\n').filter((l) => l.trimStart().startsWith('|'));
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const [header, , ...body] = lines;
  if (!header) return [];
  const names = cells(header);
  return body
    .filter((l) => !/^\|[\s:|-]+\|$/.test(l.trim()))
    .map((l) => Object.fromEntries(cells(l).map((c, i) => [names[i] ?? String(i), c])));
}
