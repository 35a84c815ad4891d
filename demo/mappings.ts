/**
 * The mappings of the generated ERP, finance and OA tables (U8-style Customer, SO_SOMain,
 * SO_SODetails; ar_invoice; v_approval) as YAML lines, at the indentation they take in a source's
 * block. The demo's crmlink.yaml and the benchmarks' deployments map the same schema with these.
 */

/**
 * The first lines of a source's block for a table whose rows carry a modified-at column and that
 * crmlink writes back by update only: table, key, timestamp capture and the `fields:` line.
 */
export function updatedByTimestamp(table: string, key: string, column: string, lookBackSeconds?: number): string {
  const lookBack = lookBackSeconds === undefined ? '' : `, lookBackSeconds: ${lookBackSeconds}`;
  return `        table: ${table}
        key: [${key}]
        changes: { strategy: timestamp, column: ${column}${lookBack} }
        write: [update]
        fields:`;
}

/** ERP `Customer` → Customer. */
export const ERP_CUSTOMER_FIELDS = `          code: { column: cCusCode, write: false }
          name: { column: cCusName, trim: true, halfWidth: true }
          shortName: { column: cCusAbbName, trim: true }
          creditCode: { column: cCusRegCode, trim: true }
          phone: { column: cCusPhone, trim: true }
          email: { column: cCusEmail, trim: true }
          address: cCusAddress
          city: cCusCity
          province: cCusProvince
          industry: cTrade
          status: { column: cCusState, map: { "1": ACTIVE, "0": INACTIVE } }
          creditLimit: { column: iCusCreLine, type: decimal, scale: 2 }
          ownerId: cCusPPerson
          ownerTeam: cCusDepart
          createdAt: { column: dCusCreateDatetime, type: datetime, write: false }`;

/** ERP `SO_SOMain` → SalesOrder: the source's table, key and fields. */
export const ERP_SALES_ORDER_SOURCE = `        table: SO_SOMain
        key: [ID]
        fields:
          code: cSOCode
          customerId: { column: cCusCode, type: ref }      # → Customer (ERP key)
          orderDate: { column: dDate, type: date }
          status: { column: cState, map: { "0": DRAFT, "1": APPROVED, "2": SHIPPED, "3": CLOSED, "4": CANCELLED } }
          currency: { column: cexch_name, map: { 人民币: CNY, 美元: USD, 欧元: EUR } }
          totalAmount: { column: iMoney, type: decimal, scale: 2 }
          salesperson: cPersonCode`;

/** ERP `SO_SODetails` → SalesOrderLine: the source's table, key and fields. */
export const ERP_SALES_ORDER_LINE_SOURCE = `        table: SO_SODetails
        key: [AutoID]
        fields:
          orderId: { column: ID, type: ref }               # → SalesOrder
          lineNo: { column: iRowNo, type: int }
          productId: { column: cInvCode, type: ref }       # → Product
          productCode: cInvCode
          productName: cInvName
          quantity: { column: iQuantity, type: decimal, scale: 4 }
          unitPrice: { column: iTaxUnitPrice, type: decimal, scale: 4 }
          amount: { column: iSum, type: decimal, scale: 2 }`;

/** Finance `ar_invoice` → Invoice: the source's table, key and fields. */
export const FINANCE_INVOICE_SOURCE = `        table: ar_invoice
        key: [inv_no]
        fields:
          code: inv_no
          customerId: { column: acct_no, type: ref }       # → Customer (finance key)
          invoiceDate: { column: inv_date, type: date }
          dueDate: { column: due_date, type: date }
          amount: { column: amount, type: decimal, scale: 2 }
          paidAmount: { column: paid, type: decimal, scale: 2 }
          balance: { column: balance, type: decimal, scale: 2 }
          status: { column: status, map: { open: OPEN, partial: PARTIAL, paid: PAID, void: VOID } }
          currency: currency`;

/** OA `v_approval` → ApprovalRequest: table, key, `code`, and `customerId` read by `customerIdRule` (the reference rules differ by deployment). */
export function oaApprovalKey(customerIdRule: string): string {
  return `        table: v_approval
        key: [requestid]
        fields:
          code: { column: requestid, type: string }
          customerId: ${customerIdRule}`;
}

/** Satisfaction survey workbook `responses` → SurveyResponse: table, key, `code`, and `customerId` (客户编号 holds the ERP customer code). */
export const SURVEY_RESPONSE_KEY = `        table: responses
        key: [问卷编号]
        fields:
          code: 问卷编号
          customerId: { column: 客户编号, type: ref, refSource: erp }   # → Customer (ERP key)`;

/** OA `v_approval` → ApprovalRequest: the fields after `code` and `customerId` (whose reference rules differ by deployment). */
export const OA_APPROVAL_DETAIL_FIELDS = `          customerName: khmc
          title: requestname
          workflow: workflowname
          status: { column: flow_state, map: { 审批中: PENDING, 归档: APPROVED, 退回: REJECTED, 撤回: WITHDRAWN } }
          requester: creater_login
          submittedAt: { column: created_at, type: datetime }
          decidedAt: { column: decided_at, type: datetime }
          amount: { column: sqje, type: decimal, scale: 2 }`;
