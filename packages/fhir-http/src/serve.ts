import { serve } from '@hono/node-server';
import type { Env, Hono } from 'hono';
import type { Logger } from '@imaging/fhir';

export interface ServeOptions {
  port: number;
  hostname: string;
  logger: Logger;
  /** Called once on SIGTERM/SIGINT after the server stops taking requests: stop workers, close stores. */
  onShutdown?: () => Promise<void>;
  /** Called when shutdown begins: end long-lived responses (event streams), which would keep the server open. */
  onClosing?: () => void;
}

/** Serves an app and shuts down gracefully on SIGTERM or SIGINT. Resolves once listening. */
export function serveApp<E extends Env>(
  app: Hono<E>,
  options: ServeOptions,
): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: options.port, hostname: options.hostname }, (info) => {
      options.logger.info('listening', { url: `http://${options.hostname}:${info.port}` });
      resolve({ port: info.port, close });
    });
    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((done) => server.close(() => done()));
        options.onClosing?.();
        // close() ends only the connections idle at that moment: one kept alive by a client that goes on
        // calling (a health probe, a feed reconnecting) would hold the shutdown open, so idle ones are swept.
        const sweep = setInterval(
          () => (server as { closeIdleConnections?: () => void }).closeIdleConnections?.(),
          100,
        );
        await stopped;
        clearInterval(sweep);
        await options.onShutdown?.();
      })());
    const onSignal = (signal: string) => {
      options.logger.info('shutting down', { signal });
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          options.logger.error('shutdown failed', { error: String(err) });
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
