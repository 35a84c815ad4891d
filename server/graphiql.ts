/**
 * GraphiQL's page, with everything it needs inside it: `@graphql-yoga/render-graphiql` carries
 * GraphiQL's script, styles and editor workers, where yoga's default page loads them from a CDN
 * (a blank page on a machine without internet). The package is large (~9 MB of JavaScript), so
 * it loads on the first request for the page, and the page is rendered once per set of options.
 */
import type { GraphiQLOptions } from 'graphql-yoga';

const pages = new Map<string, Promise<string>>();

/** yoga's `renderGraphiQL`: the self-contained page for `opts`. */
export function renderOfflineGraphiQL(opts: GraphiQLOptions): Promise<string> {
  const key = JSON.stringify(opts ?? {});
  let page = pages.get(key);
  if (!page) {
    page = import('@graphql-yoga/render-graphiql').then((m) => m.renderGraphiQL(opts));
    // A failed import is not kept: the next request tries again.
    page.catch(() => pages.delete(key));
    pages.set(key, page);
  }
  return page;
}
