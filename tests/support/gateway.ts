/**
 * An Apollo Gateway for the federation tests, on an ephemeral port of 127.0.0.1: it composes the
 * given subgraphs at start (IntrospectAndCompose reads each one's `_service { sdl }`) and forwards
 * the caller's credentials (x-api-key, authorization) to every subgraph, as a production gateway
 * in front of crmlink does.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';

const FORWARDED = ['x-api-key', 'authorization'] as const;

interface GatewayContext {
  credentials: Record<string, string>;
}

export interface RunningGateway {
  url: string;
  /** The composed supergraph's API schema, as SDL. */
  supergraphSdl(): string;
  gql(query: string, headers?: Record<string, string>): Promise<{ data?: Record<string, unknown>; errors?: { message: string; path?: unknown[] }[] }>;
  close(): Promise<void>;
}

export async function startGateway(
  subgraphs: { name: string; url: string }[],
  /** Headers the gateway sends when it reads each subgraph's SDL (a service credential). */
  introspectionHeaders: Record<string, string>,
): Promise<RunningGateway> {
  let sdl = '';
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs, introspectionHeaders }),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          // Composition reads the SDL with no request behind it: no credentials to forward then.
          const credentials: Record<string, string> = (context as Partial<GatewayContext>).credentials ?? {};
          for (const [name, value] of Object.entries(credentials)) request.http?.headers.set(name, value);
        },
      }),
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    sdl = coreSupergraphSdl;
  });
  const server = new ApolloServer<GatewayContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({
      credentials: Object.fromEntries(FORWARDED.flatMap((h) => (typeof req.headers[h] === 'string' ? [[h, req.headers[h]]] : []))),
    }),
  });
  return {
    url,
    supergraphSdl: () => sdl,
    async gql(query, headers = {}) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as Awaited<ReturnType<RunningGateway['gql']>>;
    },
    close: () => server.stop(),
  };
}
