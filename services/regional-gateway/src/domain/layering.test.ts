import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The layering rule lives in biome.json (an override for services/*/src/domain), and `biome ci` runs
// first in the test command. This proves the rule bites: a probe domain file is linted with the
// project's own configuration in a scratch copy, so nothing is written into the source tree.
const root = join(import.meta.dirname, '../../../..');
const biome = join(
  dirname(createRequire(join(root, 'package.json')).resolve('@biomejs/biome/package.json')),
  'bin/biome',
);
const scratch = mkdtempSync(join(tmpdir(), 'layering-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function lintDomainFile(service: string, source: string): string[] {
  copyFileSync(join(root, 'biome.json'), join(scratch, 'biome.json'));
  const dir = join(scratch, 'services', service, 'src', 'domain');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'probe.ts'), source);
  let output = '';
  try {
    output = execFileSync(
      process.execPath,
      [
        biome,
        'lint',
        '--reporter=github',
        '--vcs-enabled=false',
        join('services', service, 'src', 'domain', 'probe.ts'),
      ],
      {
        cwd: scratch,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (err) {
    output = String((err as { stdout?: string }).stdout ?? '');
  }
  return output
    .split('\n')
    .filter((l) => l.startsWith('::error') && /noRestricted(Imports|Globals)/.test(l))
    .map((l) => l.replace(/.*,line=(\d+).*/, 'line $1'));
}

describe('domain layering rule', () => {
  it.each(['regional-gateway', 'national-hub'])(
    'refuses framework, HTTP and cross-layer imports in %s/src/domain',
    (service) => {
      const source = [
        "import { Hono } from 'hono';",
        "import { callerOf } from '@imaging/auth';",
        "import { createApp } from '../app.ts';",
        "import { createHash } from 'node:crypto';",
        "import { OutcomeError } from '@imaging/fhir';",
        "import { buildMessage } from '@imaging/messaging';",
        "import type { Task } from '@medplum/fhirtypes';",
        "import type { GatewayDeps } from './ports.ts';",
        'export const all = [Hono, callerOf, createApp, createHash, OutcomeError, buildMessage, fetch] as unknown as [Task, GatewayDeps];',
        '',
      ].join('\n');
      expect(lintDomainFile(service, source)).toEqual(['line 1', 'line 2', 'line 3', 'line 4', 'line 9']);
    },
  );
});
