import { Agent, createServer, request } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle } from '@medplum/fhirtypes';

/** What a request to HAPI was, by its method and the shape of its path. */
export type RequestKind =
  | 'transaction'
  | 'search'
  /** The gateway's safety job looking for due watches (`next-check=le…`): by the clock, not by order. */
  | 'safety'
  | 'read'
  | 'create'
  | 'update'
  | 'delete'
  | 'other';

/**
 * A pass-through HTTP proxy in front of HAPI FHIR that counts the requests each client sends, by kind,
 * and keeps the bodies of the transactions it forwards (the direct workload replays them). Both sides
 * of a comparison go through it, so its own cost falls on each request alike.
 */
export interface CountingProxy {
  /** The proxy's address: use it in place of HAPI's root (`<url>/north/Task…`). */
  url: string;
  /** Requests forwarded so far, by partition (`north`) and kind. */
  counts(): Record<string, Record<RequestKind, number>>;
  /** The transactions forwarded to `partition` since the last call (and forgets them). */
  takeTransactions(partition: string): Bundle[];
  close(): Promise<void>;
}

export async function startCountingProxy(hapiRoot: string): Promise<CountingProxy> {
  const target = new URL(hapiRoot.endsWith('/') ? hapiRoot : `${hapiRoot}/`);
  const counts: Record<string, Record<RequestKind, number>> = {};
  const transactions = new Map<string, Bundle[]>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // The proxy serves HAPI's root path too (`/fhir/north/Task`): what follows it goes on unchanged.
    const path = (req.url ?? '/').slice(target.pathname.length).replace(/^\/+/, '');
    const [partition = '', ...rest] = (path.split('?')[0] ?? '').split('/');
    const kind = path.includes('next-check=') ? 'safety' : kindOf(req.method ?? 'GET', rest, path.includes('?'));
    counts[partition] ??= emptyCounts();
    counts[partition][kind]++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (kind === 'transaction') {
        const list = transactions.get(partition) ?? [];
        list.push(JSON.parse(body.toString('utf8')) as Bundle);
        transactions.set(partition, list);
      }
      // The client's own Host goes on, so HAPI (which builds its links from the request) pages through the
      // proxy: a next link to HAPI's own port would be outside the gateway's store base, and refused.
      const upstream = request(
        new URL(path, target),
        { method: req.method, headers: req.headers, agent: KEEP_ALIVE },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (err) => {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`proxy: ${err.message}`);
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname.replace(/\/$/, '')}`,
    counts: () => structuredClone(counts),
    takeTransactions(partition) {
      const list = transactions.get(partition) ?? [];
      transactions.set(partition, []);
      return list;
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const KEEP_ALIVE = new Agent({ keepAlive: true, maxSockets: 64 });

function kindOf(method: string, segments: string[], query: boolean): RequestKind {
  const parts = segments.filter(Boolean);
  if (method === 'POST' && parts.length === 0) return 'transaction';
  if (method === 'GET') return parts.length >= 2 && !query ? 'read' : parts.length >= 1 ? 'search' : 'other';
  if (method === 'POST' && parts.length === 1) return 'create';
  if (method === 'PUT') return 'update';
  if (method === 'DELETE') return 'delete';
  return 'other';
}

export function emptyCounts(): Record<RequestKind, number> {
  return { transaction: 0, search: 0, safety: 0, read: 0, create: 0, update: 0, delete: 0, other: 0 };
}

/** `after - before`, kind by kind, for one partition. */
export function countsBetween(
  before: Record<string, Record<RequestKind, number>>,
  after: Record<string, Record<RequestKind, number>>,
  partition: string,
): Record<RequestKind, number> {
  const a = after[partition] ?? emptyCounts();
  const b = before[partition] ?? emptyCounts();
  const out = emptyCounts();
  for (const kind of Object.keys(out) as RequestKind[]) out[kind] = a[kind] - b[kind];
  return out;
}
