/**
 * A typed crmlink client: each operation of operations.graphql, with its variables and result
 * typed by the generated code, over fetch. An example to copy, compiled in CI with the rest.
 *
 * @example
 *   const client = crmlinkClient('http://localhost:4000/graphql', { 'x-api-key': process.env.CRMLINK_KEY ?? '' });
 *   const { customers } = await client.request(Customer360Document, { first: 5 });
 *   customers.nodes[0]?.salesOrders.nodes[0]?.status; // 'DRAFT' | 'APPROVED' | ... (SalesOrderStatus)
 */
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Customer360Document, DryRunDocument, SyncOverviewDocument, type SyncRunStatus } from './generated/graphql.js';

export class CrmlinkRequestError extends Error {
  constructor(
    message: string,
    readonly errors: readonly { message: string; extensions?: { code?: string } }[],
  ) {
    super(message);
  }
}

export function crmlinkClient(url: string, headers: Record<string, string> = {}) {
  return {
    async request<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): Promise<R> {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await res.json()) as { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
      if (body.errors?.length || !body.data) throw new CrmlinkRequestError(body.errors?.[0]?.message ?? `HTTP ${res.status}`, body.errors ?? []);
      return body.data;
    },
  };
}

/** Names of the jobs whose last run did not end well, with what they read. */
export async function jobsNeedingAttention(client: ReturnType<typeof crmlinkClient>): Promise<{ job: string; status: SyncRunStatus; read: number }[]> {
  const { syncJobs } = await client.request(SyncOverviewDocument, {});
  const bad: SyncRunStatus[] = ['FAILED', 'PARTIAL', 'ABORTED', 'ABANDONED'];
  return syncJobs.flatMap((j) => (j.lastRun && bad.includes(j.lastRun.status) ? [{ job: j.name, status: j.lastRun.status, read: j.lastRun.stats?.totals.read ?? 0 }] : []));
}

/** Open receivables of the first customers, from the customer-360 query. */
export async function openReceivables(client: ReturnType<typeof crmlinkClient>, first: number): Promise<{ name: string | null; balance: string | null }[]> {
  const { customers } = await client.request(Customer360Document, { first });
  return customers.nodes.map((c) => ({ name: c.name ?? null, balance: c.receivableBalance ?? null }));
}

/** How many writes a dry run of `job` would make, per target. */
export async function plannedWrites(client: ReturnType<typeof crmlinkClient>, job: string): Promise<Record<string, number>> {
  const { runSyncJob } = await client.request(DryRunDocument, { job });
  return Object.fromEntries((runSyncJob.plan ?? []).map((p) => [p.target, p.counts.inserts + p.counts.updates + p.counts.deletes]));
}
