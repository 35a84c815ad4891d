/**
 * A small second subgraph for the federation tests: a support-tickets service whose Ticket refers
 * to crmlink's Customer and SalesOrder by their global ids (entity stubs: only crmlink resolves
 * them). Served by @apollo/server on an ephemeral port of 127.0.0.1.
 */
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from '../../schema/graphql-runtime.js';

export interface Ticket {
  id: string;
  subject: string;
  /** crmlink global id of the customer. */
  customerId: string;
  /** crmlink global id of a sales order, when the ticket is about one. */
  orderId?: string;
}

const TYPE_DEFS = parse(/* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Customer @key(fields: "id", resolvable: false) {
    id: ID!
  }
  type SalesOrder @key(fields: "id", resolvable: false) {
    id: ID!
  }
  type Ticket {
    id: ID!
    subject: String!
    customer: Customer
    order: SalesOrder
  }
  type Query {
    tickets(first: Int): [Ticket!]!
  }
`);

export interface RunningSubgraph {
  url: string;
  close(): Promise<void>;
}

export async function startTicketsSubgraph(tickets: readonly Ticket[]): Promise<RunningSubgraph> {
  const schema = buildSubgraphSchema({
    typeDefs: TYPE_DEFS,
    resolvers: {
      Query: { tickets: (_: unknown, args: { first?: number }) => tickets.slice(0, args.first ?? tickets.length) },
      Ticket: {
        customer: (t: Ticket) => ({ __typename: 'Customer', id: t.customerId }),
        order: (t: Ticket) => (t.orderId ? { __typename: 'SalesOrder', id: t.orderId } : null),
      },
    },
  });
  const server = new ApolloServer({ schema, plugins: [ApolloServerPluginInlineTraceDisabled()] });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return { url, close: () => server.stop() };
}
