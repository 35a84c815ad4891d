/**
 * Example GraphQL operations for the demo: printed by `crmlink demo` and offered as GraphiQL's
 * default document. Each is valid against the schema the demo config generates (checked in
 * tests/demo/demo.test.ts) and each shows one thing the demo data was built for.
 */

export interface DemoQuery {
  /** Operation name, as in the document. */
  name: string;
  /** One line for the console. */
  title: string;
  query: string;
  variables?: Record<string, unknown>;
}

/** One customer, whole: ERP master data, finance receivables, OA approvals, where each field came from. */
const CUSTOMER_360 = /* GraphQL */ `# One customer across ERP, finance, OA and the survey workbook. In finance this company is
# "华为技术（北京）有限公司" under account AR-xxxx; the credit code links it to ERP C0002.
query Customer360($name: String = "华为技术") {
  customers(where: { name: { contains: $name } }, first: 1) {
    nodes {
      id
      code
      name
      creditCode
      phone
      status
      creditLimit
      ownerId
      ownerTeam
      syncStatus
      sourceRecords { source key syncedAt }
      fieldSources { field source changedAt }
      receivableBalance
      salesOrders(first: 5, orderBy: [{ field: orderDate, direction: DESC }]) {
        totalCount
        aggregate { sum { totalAmount } }
        nodes {
          code
          orderDate
          status
          totalAmount
          lines { nodes { lineNo productCode productName quantity unitPrice amount } }
        }
      }
      invoices(first: 10, orderBy: [{ field: invoiceDate, direction: DESC }]) {
        totalCount
        nodes { code invoiceDate dueDate amount paidAmount balance status }
      }
      payments(first: 5, orderBy: [{ field: paymentDate, direction: DESC }]) {
        nodes { code paymentDate amount method }
      }
      approvals(first: 5, orderBy: [{ field: submittedAt, direction: DESC }]) {
        nodes { code title workflow status amount requester submittedAt customerName }
      }
      surveyResponses(first: 5, orderBy: [{ field: surveyDate, direction: DESC }]) {
        totalCount
        aggregate { avg { score serviceScore productScore deliveryScore } }
        nodes { code surveyDate channel score comment respondent }
      }
    }
  }
}
`;

/** Filter, multi-key ordering and cursor paging, pushed down to SQL. */
const FILTER_ORDER_PAGE = /* GraphQL */ `# Active customers of the east and south teams with a credit limit of at least 500,000,
# largest first; pass pageInfo.endCursor as $after for the next page.
query BigCustomers($after: String) {
  customers(
    where: {
      status: { eq: ACTIVE }
      ownerTeam: { in: ["east", "south"] }
      creditLimit: { gte: "500000" }
    }
    orderBy: [{ field: creditLimit, direction: DESC }, { field: name }]
    first: 5
    after: $after
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node { code name city ownerId creditLimit }
    }
  }
}
`;

/** Aggregates computed by the database that owns the data. */
const AGGREGATES = /* GraphQL */ `# Order book (ERP), open receivables (finance) and credit exposure (hub) in one request.
query Totals($since: Date = "2026-01-01") {
  salesOrders(where: { orderDate: { gte: $since }, status: { nin: [CANCELLED, DRAFT] } }) {
    totalCount
    aggregate {
      count
      sum { totalAmount }
      avg { totalAmount }
      max { totalAmount orderDate }
    }
  }
  openInvoices: invoices(where: { status: { in: [OPEN, PARTIAL] } }) {
    aggregate { count sum { balance } }
  }
  customers(where: { status: { eq: ACTIVE } }) {
    aggregate { count sum { creditLimit } max { creditLimit } }
  }
}
`;

/** What sync could not decide alone. */
const CONFLICTS = /* GraphQL */ `# Fields changed on both sides to different values since the last sync: a person decides.
# Resolve one with:  mutation { resolveConflict(id: "…", keep: "erp") { id status resolution } }
query Conflicts {
  conflicts(status: OPEN, first: 20) {
    totalCount
    nodes {
      id
      job
      entity
      recordId
      field
      base
      values { side value }
      rule
      reason
      createdAt
    }
  }
  syncRuns(job: "customers", first: 5) { job status startedAt endedAt stats { durationMs totals { read written conflicts parked } sources { source read } } }
}
`;

export const DEMO_QUERIES: readonly DemoQuery[] = [
  { name: 'Customer360', title: 'Customer 360: one customer across ERP, finance, OA and the survey workbook', query: CUSTOMER_360, variables: { name: '华为技术' } },
  { name: 'BigCustomers', title: 'Filter, order by several keys, page with cursors', query: FILTER_ORDER_PAGE },
  { name: 'Totals', title: 'Aggregates pushed down to each source', query: AGGREGATES },
  { name: 'Conflicts', title: 'Open sync conflicts (after the second sync run)', query: CONFLICTS },
];

/** All examples as one document: GraphiQL's default tab (pick the operation to run). */
export const DEMO_GRAPHIQL_DOCUMENT = DEMO_QUERIES.map((q) => q.query.trim()).join('\n\n') + '\n';

/** The examples as console text, e.g. printed by `crmlink demo` under the GraphiQL URL. */
export function formatDemoQueries(url = 'http://localhost:4000/graphql'): string {
  const lines = [`Open ${url} (GraphiQL) and try:`, ''];
  DEMO_QUERIES.forEach((q, i) => lines.push(`── ${i + 1}. ${q.title} ──`, q.query.trim(), ''));
  lines.push(`or from a shell:`, `  curl -s ${url} -H 'content-type: application/json' \\`);
  lines.push(`    -d '{"query":"{ customers(first: 3) { totalCount nodes { code name creditLimit } } }"}'`);
  return lines.join('\n');
}
