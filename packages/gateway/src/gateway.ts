// buildGateway: the database (migrated on start), the service context, the HTTP app and the jobs, in one handle.
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { type GatewayConfig, type GatewayConfigInput, resolveConfig } from './config.js';
import { type Connection, connect } from './db/connect.js';
import { migrate } from './db/migrations.js';
import { type ServiceContext, wechatClients } from './domain/context.js';
import { buildApp } from './http/app.js';
import { runCloses, runFollowUps, startWorker } from './jobs/index.js';

export interface GatewayOptions extends GatewayConfigInput {
  /** Fastify's logger option; off by default. Secrets are never logged. */
  logger?: FastifyServerOptions['logger'];
  /** The clock, for tests. */
  now?: () => number;
  /** Run the follow-up and expiry jobs in this process every `workerIntervalMs` (default: off). */
  worker?: boolean;
  workerIntervalMs?: number;
}

export interface Gateway {
  app: FastifyInstance;
  ctx: ServiceContext;
  config: GatewayConfig;
  connection: Connection;
  /** Listens (default 127.0.0.1, a free port) and returns the base URL. */
  listen(options?: { port?: number; host?: string }): Promise<string>;
  /** One run of each job, as the worker loop does it. */
  runJobs(): Promise<{ followUps: number; closes: number }>;
  close(): Promise<void>;
}

export async function buildGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const { logger, now, worker, workerIntervalMs, ...input } = options;
  const config = resolveConfig(input);
  const connection = connect(config.databaseUrl);
  try {
    await migrate(connection.db);
  } catch (error) {
    await connection.close();
    throw error;
  }
  const clients = wechatClients(config);
  let listeningUrl: string | undefined;
  const ctx: ServiceContext = {
    db: connection.db,
    config,
    now: now ?? Date.now,
    publicUrl: () => (config.publicUrl ?? listeningUrl ?? 'http://127.0.0.1').replace(/\/+$/, ''),
    wechat: clients.factory,
    log: { warn: () => {}, info: () => {} },
  };
  const app = await buildApp(ctx, logger ?? false);
  ctx.log = {
    warn: (obj, msg) => app.log.warn(obj, msg),
    info: (obj, msg) => app.log.info(obj, msg),
  };
  const loop = worker ? startWorker(ctx, workerIntervalMs) : undefined;
  return {
    app,
    ctx,
    config,
    connection,
    async listen(listenOptions = {}) {
      await app.listen({ port: listenOptions.port ?? 0, host: listenOptions.host ?? '127.0.0.1' });
      const address = app.server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      listeningUrl = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`;
      return listeningUrl;
    },
    async runJobs() {
      return { followUps: await runFollowUps(ctx), closes: await runCloses(ctx) };
    },
    async close() {
      await loop?.stop();
      await app.close();
      await clients.close();
      await connection.close();
    },
  };
}
