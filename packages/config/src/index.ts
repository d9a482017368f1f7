import { readFileSync } from 'node:fs';
import { z } from 'zod';

export type EnvSource = Record<string, string | undefined>;

/** Thrown when the environment does not parse. Its message lists every bad variable, one per line. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Parses environment variables with a zod object schema and fails fast, naming every bad variable.
 * Services call it once in main.ts with `process.env`; tests pass a plain object.
 *
 * Any variable `X` of the schema may be given as `X_FILE=/path` instead: the file is read once, here,
 * and its trailing newlines dropped. That is how secrets reach a container as mounted files (compose
 * `secrets:`, Kubernetes Secret volumes) rather than as environment values a tool may echo. Both set,
 * an unreadable file or an empty one is a ConfigError. A value read from a file, or given to a
 * variable made with `env.secret()`, is never quoted in an error.
 */
export function loadEnv<S extends z.ZodObject>(schema: S, source: EnvSource = process.env): z.infer<S> {
  // Empty strings mean "unset", so that `FOO= cmd` falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
  const shape = schema.shape as Record<string, z.ZodType>;
  const { values, fromFile, problems } = resolveFiles(Object.keys(shape), cleaned);
  if (problems.length > 0) throw new ConfigError(problems);
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const key = issue.path[0];
      const field = typeof key === 'string' ? shape[key] : undefined;
      const hidden = typeof key !== 'string' || fromFile.has(key) || (field !== undefined && SECRET.has(field));
      const got = hidden ? undefined : values[key as string];
      return got === undefined ? `${name}: ${issue.message}` : `${name}: ${issue.message} (got '${got}')`;
    }),
  );
}

/** `X` from `X_FILE` for each variable name: the values, which of them came from files, and what went wrong. */
function resolveFiles(names: string[], source: Record<string, string>) {
  const values: Record<string, string> = { ...source };
  const fromFile = new Set<string>();
  const problems: string[] = [];
  for (const name of names) {
    const path = source[`${name}_FILE`];
    if (path === undefined) continue;
    if (source[name] !== undefined) {
      problems.push(`${name}: set ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      const text = readFileSync(path, 'utf8').replace(/[\r\n]+$/, '');
      if (text === '') problems.push(`${name}_FILE: ${path} is empty`);
      else {
        values[name] = text;
        fromFile.add(name);
      }
    } catch (err) {
      problems.push(`${name}_FILE: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  return { values, fromFile, problems };
}

/** The variables made with `env.secret()`: their values are never quoted in an error. */
const SECRET = new WeakSet<z.ZodType>();

/** Reusable variable types. */
/**
 * For a service's main.ts: the configuration, or every bad variable on stderr and exit code 1 (a
 * stack trace would bury the one line an operator needs).
 */
export function configOrExit<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

export const env = {
  /** A secret (a page-link key, a password): optional, at least `min` characters, never quoted in errors. */
  secret: (min = 16) => {
    const field = z.string().min(min).optional();
    SECRET.add(field);
    return field;
  },
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: () => z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  /**
   * Where a service keeps its FHIR data: a file path (the embedded store) or an `http(s)://` FHIR base.
   * A value with a URL scheme (`name:…`) that is not a well-formed http(s) URL is refused, as the store
   * would take `HTTPS://…`, `https:/…`, `https:host/…`, `htps://…` or `host:8080/…` for a directory and open
   * an empty local store. The scheme is lower-cased, as the store reads it. A one-letter scheme is a
   * Windows drive (`C:/data`); a colon after a `/` or `\` (`data/run:1/x`) is inside a path.
   */
  store: () =>
    z.string().transform((value, ctx) => {
      // No `/` required after the colon: a URL missing its `//` is a typo to refuse, not a path.
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(value)?.[1];
      if (scheme === undefined) return value;
      const url = `${scheme.toLowerCase()}${value.slice(scheme.length)}`;
      if (/^https?:\/\/[^/]/.test(url) && URL.canParse(url)) return url;
      ctx.addIssue({
        code: 'custom',
        message: 'expected a file path, or a well-formed http(s):// FHIR base',
      });
      return z.NEVER;
    }),
  /**
   * `1500`, `90s`, `5m`, `24h` or `7d`, in milliseconds; at least `min` and at most `max` (durations) when
   * given. A timer's setting needs both: Node runs a timer of 0 or of over 2^31-1 ms (24.8 days) after 1 ms.
   */
  duration: (fallback: string, { min, max }: { min?: string; max?: string } = {}) => {
    const [minMs, maxMs] = [min, max].map((bound) => (bound === undefined ? undefined : msOf(bound)));
    const range = min && max ? `between ${min} and ${max}` : min ? `at least ${min}` : `at most ${max}`;
    return z
      .string()
      .default(fallback)
      .transform((value, ctx) => {
        const ms = parseDuration(value);
        if (ms === undefined) {
          ctx.addIssue({ code: 'custom', message: 'expected a duration such as 500ms, 90s, 5m, 24h or 7d' });
          return z.NEVER;
        }
        if ((minMs !== undefined && ms < minMs) || (maxMs !== undefined && ms > maxMs)) {
          ctx.addIssue({ code: 'custom', message: range });
          return z.NEVER;
        }
        return ms;
      });
  },
  /** Comma-separated list, trimmed, empty items dropped. */
  list: () =>
    z.string().transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A bound written in the code: a typo there fails when the schema is built, not as a bad variable. */
function msOf(bound: string): number {
  const ms = parseDuration(bound);
  if (ms === undefined) throw new Error(`'${bound}' is not a duration`);
  return ms;
}

export function parseDuration(value: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] as number));
}
export * from './topology.ts';
