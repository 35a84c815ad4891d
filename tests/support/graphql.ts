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

/** One page of a connection as a paging test reads it: the codes on it and its pageInfo. */
export interface CodePage {
  codes: string[];
  pageInfo: { hasNextPage?: boolean; hasPreviousPage?: boolean; startCursor?: string | null; endCursor?: string | null };
}

/**
 * The codes of a whole connection fetched a page at a time: forward from the start, each page
 * after the last one's end cursor, or backward from the end, each page before the last one's start
 * cursor, until a page says there is no more (at most `maxPages` pages). `fetchPage` gets the cursor.
 */
export async function walkPages(direction: 'forward' | 'backward', fetchPage: (cursor: string | null) => Promise<CodePage>, maxPages = 100): Promise<string[]> {
  const codes: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i++) {
    const { codes: page, pageInfo } = await fetchPage(cursor);
    if (direction === 'forward') codes.push(...page);
    else codes.unshift(...page);
    if (!(direction === 'forward' ? pageInfo.hasNextPage : pageInfo.hasPreviousPage)) break;
    cursor = (direction === 'forward' ? pageInfo.endCursor : pageInfo.startCursor) ?? null;
  }
  return codes;
}
