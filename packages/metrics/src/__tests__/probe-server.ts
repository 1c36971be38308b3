import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { expressMiddleware, type ExpressContextFunctionArgument } from '@as-integrations/express5';
import { GraphQLError } from 'graphql';
import type { ServiceMetrics } from '../index.js';

/**
 * A real Apollo Server behind Express with `metrics` wired in the way the gateway and the subgraphs
 * wire it (`httpMiddleware`, `/metrics`, `graphqlPlugin`). `{ ok }` answers, `{ fails }` is FORBIDDEN.
 */
export async function probeServer<TContext extends BaseContext>(
  metrics: ServiceMetrics,
  context?: (args: ExpressContextFunctionArgument) => Promise<TContext>,
): Promise<{ base: string; stop: () => Promise<void> }> {
  const apollo = new ApolloServer<TContext>({
    typeDefs: 'type Query { ok: Int, fails: Int }',
    resolvers: { Query: { ok: () => 1, fails: () => { throw new GraphQLError('no', { extensions: { code: 'FORBIDDEN' } }); } } },
    plugins: [metrics.graphqlPlugin<TContext>()],
  });
  await apollo.start();
  const app = express();
  app.use(metrics.httpMiddleware());
  app.get('/metrics', metrics.handler());
  app.use('/graphql', express.json(), context ? expressMiddleware(apollo, { context }) : expressMiddleware(apollo as never));
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      await apollo.stop();
      server.close();
    },
  };
}

/** The sample of `name` whose labels include all of `labels` (label order in the text is not fixed). */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const found = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(' ') + 1));
}
