import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS_DOC, onProject, restoreSteps, taggedCommands } from './operations-doc.ts';

const fence = '```';

describe("the operator's guide's commands", () => {
  it('are the blocks tagged `sh ops`, in order, with the line they start on', () => {
    const doc = [
      `${fence}sh`,
      'not run',
      fence,
      `${fence}sh ops`,
      'echo one',
      'echo two',
      fence,
      'text',
      `${fence}sh ops`,
      'echo three',
      fence,
      `${fence}sh rotate-key`,
      'echo four',
      fence,
    ].join('\n');
    expect(taggedCommands(doc)).toEqual([
      { line: 4, script: 'echo one\necho two' },
      { line: 9, script: 'echo three' },
    ]);
    expect(taggedCommands(doc, 'rotate-key')).toEqual([{ line: 12, script: 'echo four' }]);
    expect(() => taggedCommands(`${fence}sh ops\necho open`)).toThrow(/does not close/);
  });

  it("run against the smoke test's own project and compose file", () => {
    expect(
      onProject(
        'podman logs imaging-connect_hub_1 && podman-compose -p imaging-connect -f infra/topology/compose.yaml ps',
        'imaging-smoke-1',
        '/tmp/x/compose.yaml',
      ),
    ).toBe('podman logs imaging-smoke-1_hub_1 && podman-compose -p imaging-smoke-1 -f /tmp/x/compose.yaml ps');
  });

  it('cover health, logs, the database, the delivery queue and a backup', () => {
    const scripts = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8')).map((b) => b.script);
    for (const must of ['/health', 'podman logs', 'psql', 'status=failed', 'pg_dump', 'pg_restore'])
      expect(
        scripts.some((s) => s.includes(must)),
        must,
      ).toBe(true);
  });

  it('restore for real in three steps: only PostgreSQL up, the database replaced by the backup, the rest started', () => {
    const { stop, restore, start } = restoreSteps();
    expect(stop.script).toMatch(/ down\n.* up -d postgres\n.*pg_isready/s);
    expect(restore.script).toMatch(
      /dropdb .* hapi && createdb .* hapi && pg_restore .* -d hapi .*< backups\/hapi\.dump$/,
    );
    expect(start.script).toMatch(/ up -d$/);
    // The password only ever from the mounted secret.
    expect(restore.script).toContain('PGPASSWORD=$(cat /run/secrets/db-password)');
    const backup = taggedCommands(readFileSync(OPERATIONS_DOC, 'utf8')).find((b) => b.script.includes('pg_dump'));
    expect(backup?.script).toContain('backups/hapi.dump');
    expect(backup?.script).not.toMatch(/rm -r backups/);
    expect(() => restoreSteps(`${fence}sh restore\necho one\n${fence}`)).toThrow(/1 `sh restore` blocks, not 3/);
  });
});
