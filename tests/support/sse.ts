/**
 * A GraphQL subscription over server-sent events, read as a client would: POST with
 * `accept: text/event-stream`, then one `next` event at a time (keep-alive pings skipped).
 */
import { expect } from 'vitest';

export interface SseStream {
  status: number;
  /** The next `next` event's payload (pings skipped). */
  next(): Promise<{ data?: Record<string, unknown>; errors?: { message: string; extensions?: Record<string, unknown> }[] }>;
  close(): void;
}

/** Open a subscription at `url` (…/graphql); resolves once the server has started it (its first ping arrived). */
export async function subscribeSse(url: string, query: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const ctrl = new AbortController();
  const res = await fetch(url, {
    method: 'POST',
    headers: { accept: 'text/event-stream', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
    signal: ctrl.signal,
  });
  const close = () => ctrl.abort();
  if (!res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    return { status: res.status, close, next: () => Promise.reject(new Error(`not an event stream: ${res.status} ${res.headers.get('content-type')}`)) };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const block = async (): Promise<string> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const b = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        return b;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buffer += decoder.decode(value, { stream: true });
    }
  };
  expect(await block()).toBe(':'); // the stream is open: the subscription is listening
  return {
    status: res.status,
    close,
    next: async () => {
      for (;;) {
        const b = await block();
        if (b.startsWith(':')) continue;
        const data = b.split('\n').find((l) => l.startsWith('data: '));
        if (b.startsWith('event: next') && data) return JSON.parse(data.slice(6)) as Awaited<ReturnType<SseStream['next']>>;
        throw new Error(`unexpected event: ${b}`);
      }
    },
  };
}
