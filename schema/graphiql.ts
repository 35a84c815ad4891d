/** Example operations GraphiQL opens with: the customer-360 view first. */
export const CUSTOMER_360 = /* GraphQL */ `# One customer view over ERP, finance and OA.
query Customer360 {
  customers(first: 10, orderBy: [{ field: name }], where: { status: { eq: ACTIVE } }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      name
      creditCode
      creditLimit
      receivableBalance
      syncStatus
      sourceRecords { source key syncedAt }
      salesOrders(first: 5, orderBy: [{ field: orderDate, direction: DESC }]) {
        totalCount
        aggregate { sum { totalAmount } }
        nodes { code orderDate status totalAmount lines { nodes { lineNo productName quantity amount } } }
      }
      invoices(where: { status: { in: [OPEN, PARTIAL] } }) {
        nodes { code dueDate amount balance status }
      }
      approvals(first: 5) { nodes { title status submittedAt } }
    }
  }
}

# Sync and conflicts, for operators.
query Operations {
  sources { name dialect kind }
  syncJobs { name entity sources schedule }
}
`;
