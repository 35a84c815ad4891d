/** GraphQL asked of an app's yoga directly, without a server: what the tests over a real app share. */
import type { App } from '../../app/app.js';
import { createYogaApp, type CrmYoga } from '../../server/yoga-app.js';

export interface GraphQLAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are walked freely
  data?: any;
  errors?: unknown;
  extensions?: { warnings?: { code: string; entity: string; message: string }[] };
}

/** POST `query` as JSON to `yoga` (or to a fresh yoga over `app`) and parse the answer. */
export async function askGraphQL(target: CrmYoga | App, query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<GraphQLAnswer> {
  const yoga = 'hub' in target ? createYogaApp(target, { logger: false }) : target;
  const res = await yoga.fetch('http://x/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, ...((await res.json()) as Omit<GraphQLAnswer, 'status'>) };
}
