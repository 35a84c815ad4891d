/**
 * The schemas of the three demo systems, written the way their vendors name things.
 *
 * - ERP: Yonyou U8 names (客户档案 `Customer`, 存货档案 `Inventory`, 销售订单 `SO_SOMain` /
 *   `SO_SODetails`), Hungarian-style prefixes (c = char, i = number, d = date). Simplified where
 *   U8 spreads one thing over several tables: the demo mappings read the status from one `cState`
 *   code (U8's own approver `cVerifier` and closer `cCloser` are filled alongside, as the
 *   yonyou-u8 preset reads them), `iMoney` holds the order total, units are stored by name in
 *   `cComUnitCode`.
 * - Finance: a plain receivables ledger in snake_case, keyed by its own account numbers (AR-0001).
 * - OA: Weaver e-cology names (`workflow_requestbase`, `workflow_base`, `HrmResource`), with the
 *   form data of the customer workflows in `formtable_main_12`, and a view `v_approval` joining
 *   them — the kind of read-only view an OA administrator hands to an integration.
 *
 * SQLite accepts the vendors' type names (nvarchar, decimal(18,2), datetime) and keeps their
 * affinity, so introspection shows what the real systems would.
 */

export const ERP_DDL: readonly string[] = [
  `CREATE TABLE Customer (
    cCusCode            nvarchar(20)  NOT NULL PRIMARY KEY,  -- 客户编码
    cCusName            nvarchar(98)  NOT NULL,              -- 客户名称
    cCusAbbName         nvarchar(60)  NOT NULL,              -- 客户简称
    cCusRegCode         nvarchar(50)  NULL,                  -- 纳税人登记号 / 统一社会信用代码
    cCusPhone           nvarchar(100) NULL,                  -- 电话
    cCusHand            nvarchar(100) NULL,                  -- 手机
    cCusPerson          nvarchar(100) NULL,                  -- 联系人
    cCusEmail           nvarchar(100) NULL,                  -- Email地址
    cCusAddress         nvarchar(255) NULL,                  -- 地址
    cCusProvince        nvarchar(60)  NULL,                  -- 省/直辖市
    cCusCity            nvarchar(60)  NULL,                  -- 城市
    cTrade              nvarchar(60)  NULL,                  -- 行业
    iCusCreLine         decimal(18,2) NULL,                  -- 信用额度
    cCusPPerson         nvarchar(20)  NULL,                  -- 专管业务员
    cCusDepart          nvarchar(12)  NULL,                  -- 分管部门
    cCusState           nvarchar(1)   NOT NULL DEFAULT '1',  -- 状态 1 正常 / 0 停用
    dCusCreateDatetime  datetime      NULL,                  -- 建档日期
    dModifyDate         datetime      NOT NULL               -- 变更日期 (Asia/Shanghai)
  )`,
  `CREATE INDEX ix_Customer_dModifyDate ON Customer (dModifyDate, cCusCode)`,
  `CREATE INDEX ix_Customer_cCusRegCode ON Customer (cCusRegCode)`,
  `CREATE TABLE Inventory (
    cInvCode      nvarchar(60)  NOT NULL PRIMARY KEY,  -- 存货编码
    cInvName      nvarchar(255) NOT NULL,              -- 存货名称
    cInvStd       nvarchar(255) NULL,                  -- 规格型号
    cInvCCode     nvarchar(12)  NULL,                  -- 存货大类编码
    cComUnitCode  nvarchar(35)  NULL,                  -- 主计量单位
    iInvSPrice    decimal(18,4) NULL,                  -- 参考售价
    iInvSCost     decimal(18,4) NULL,                  -- 参考成本
    dEDate        datetime      NULL,                  -- 停用日期
    dModifyDate   datetime      NULL
  )`,
  `CREATE TABLE SO_SOMain (
    ID           integer       NOT NULL PRIMARY KEY,  -- 主表标识
    cSOCode      nvarchar(30)  NOT NULL UNIQUE,       -- 订单号
    dDate        datetime      NOT NULL,              -- 订单日期
    cCusCode     nvarchar(20)  NOT NULL REFERENCES Customer (cCusCode),
    cState       nvarchar(1)   NOT NULL,              -- 0 开立 1 审核 2 发货 3 关闭 4 作废
    cVerifier    nvarchar(20)  NULL,                  -- 审核人
    cCloser      nvarchar(20)  NULL,                  -- 关闭人
    cPersonCode  nvarchar(20)  NULL,                  -- 业务员
    cDepCode     nvarchar(12)  NULL,                  -- 部门
    cexch_name   nvarchar(8)   NOT NULL DEFAULT '人民币',
    iMoney       decimal(18,2) NOT NULL,              -- 价税合计
    cMaker       nvarchar(20)  NULL,                  -- 制单人
    cMemo        nvarchar(255) NULL,
    dModifyDate  datetime      NOT NULL
  )`,
  `CREATE INDEX ix_SO_SOMain_cCusCode ON SO_SOMain (cCusCode)`,
  `CREATE INDEX ix_SO_SOMain_dModifyDate ON SO_SOMain (dModifyDate, ID)`,
  `CREATE TABLE SO_SODetails (
    AutoID         integer       NOT NULL PRIMARY KEY,
    ID             integer       NOT NULL REFERENCES SO_SOMain (ID),
    cSOCode        nvarchar(30)  NOT NULL,            -- 订单号 (denormalised, as U8 does)
    iSOsID         integer       NOT NULL UNIQUE,     -- 销售订单子表标识
    iRowNo         integer       NOT NULL,            -- 行号
    cInvCode       nvarchar(60)  NOT NULL REFERENCES Inventory (cInvCode),
    cInvName       nvarchar(255) NULL,
    iQuantity      decimal(20,6) NOT NULL,            -- 数量
    iTaxUnitPrice  decimal(20,6) NOT NULL,            -- 含税单价
    iSum           decimal(18,2) NOT NULL             -- 价税合计
  )`,
  `CREATE INDEX ix_SO_SODetails_ID ON SO_SODetails (ID, iRowNo)`,
];

export const FINANCE_DDL: readonly string[] = [
  `CREATE TABLE fin_customer (
    acct_no       varchar(16)   NOT NULL PRIMARY KEY,
    cust_name     varchar(200)  NOT NULL,
    credit_code   varchar(18)   NULL,
    tel           varchar(40)   NULL,
    credit_limit  numeric(18,2) NULL,
    owner         varchar(20)   NULL,   -- receivable accountant
    updated_at    timestamp     NOT NULL  -- ISO-8601 UTC
  )`,
  `CREATE INDEX ix_fin_customer_updated_at ON fin_customer (updated_at, acct_no)`,
  `CREATE TABLE ar_invoice (
    inv_no      varchar(20)   NOT NULL PRIMARY KEY,
    acct_no     varchar(16)   NOT NULL REFERENCES fin_customer (acct_no),
    so_no       varchar(30)   NULL,     -- source sales order in the ERP
    inv_date    date          NOT NULL,
    due_date    date          NOT NULL,
    currency    char(3)       NOT NULL DEFAULT 'CNY',
    amount      numeric(18,2) NOT NULL,
    paid        numeric(18,2) NOT NULL DEFAULT 0,
    balance     numeric(18,2) NOT NULL,
    status      varchar(10)   NOT NULL CHECK (status IN ('open', 'partial', 'paid', 'void')),
    updated_at  timestamp     NOT NULL
  )`,
  `CREATE INDEX ix_ar_invoice_acct_no ON ar_invoice (acct_no)`,
  `CREATE TABLE ar_receipt (
    rcpt_no    varchar(20)   NOT NULL PRIMARY KEY,
    acct_no    varchar(16)   NOT NULL REFERENCES fin_customer (acct_no),
    inv_no     varchar(20)   NULL REFERENCES ar_invoice (inv_no),
    rcpt_date  date          NOT NULL,
    amount     numeric(18,2) NOT NULL,
    method     varchar(20)   NULL
  )`,
  `CREATE INDEX ix_ar_receipt_acct_no ON ar_receipt (acct_no)`,
  `CREATE INDEX ix_ar_receipt_inv_no ON ar_receipt (inv_no)`,
];

export const OA_DDL: readonly string[] = [
  `CREATE TABLE HrmResource (
    id            integer      NOT NULL PRIMARY KEY,
    loginid       varchar(60)  NULL,
    lastname      varchar(60)  NULL,
    departmentid  varchar(20)  NULL
  )`,
  `CREATE TABLE workflow_base (
    id            integer      NOT NULL PRIMARY KEY,
    workflowname  varchar(200) NOT NULL,
    formid        integer      NOT NULL,
    isvalid       char(1)      NOT NULL DEFAULT '1'
  )`,
  `CREATE TABLE workflow_requestbase (
    requestid        integer      NOT NULL PRIMARY KEY,
    workflowid       integer      NOT NULL REFERENCES workflow_base (id),
    requestname      varchar(400) NOT NULL,
    currentnodetype  char(1)      NOT NULL,  -- 0 创建 1 批准 2 提交 3 归档
    status           varchar(60)  NULL,      -- name of the current node, or 退回 / 撤回
    creater          integer      NOT NULL REFERENCES HrmResource (id),
    createdate       char(10)     NOT NULL,  -- YYYY-MM-DD (Asia/Shanghai)
    createtime       char(8)      NOT NULL,  -- HH:MM:SS
    lastoperatedate  char(10)     NULL,
    lastoperatetime  char(8)      NULL,
    lastnodetype     char(1)      NULL,      -- type of the node the request came from (退回: 1 or 2)
    currentstatus    integer      NULL,      -- NULL/-1 normal, 0 paused, 1 withdrawn (撤销)
    crmids           varchar(4000) NULL,     -- CRM_CustomerInfo ids, comma separated (no OA CRM here)
    deleted          integer      NOT NULL DEFAULT 0,
    requestlevel     integer      NOT NULL DEFAULT 0
  )`,
  `CREATE TABLE formtable_main_12 (
    id         integer       NOT NULL PRIMARY KEY,
    requestid  integer       NOT NULL REFERENCES workflow_requestbase (requestid),
    khmc       varchar(200)  NULL,  -- 客户名称, as typed
    khbm       varchar(50)   NULL,  -- 客户编码 (ERP), often left empty
    sqje       decimal(15,2) NULL,  -- 申请金额
    sqlx       varchar(50)   NULL,  -- 申请类型
    sqsm       varchar(1000) NULL   -- 申请说明
  )`,
  `CREATE INDEX ix_formtable_main_12_requestid ON formtable_main_12 (requestid)`,
  // One row per request with what an integration needs: readable state, the requester's login,
  // full timestamps, and an empty customer code turned into NULL.
  `CREATE VIEW v_approval AS
    SELECT r.requestid                                 AS requestid,
           r.requestname                               AS requestname,
           b.workflowname                              AS workflowname,
           f.sqlx                                      AS sqlx,
           CASE WHEN r.currentnodetype = '3' THEN '归档'
                WHEN r.status IN ('退回', '撤回') THEN r.status
                ELSE '审批中' END                      AS flow_state,
           h.loginid                                   AS creater_login,
           r.createdate || ' ' || r.createtime         AS created_at,
           CASE WHEN r.currentnodetype = '3' OR r.status IN ('退回', '撤回')
                THEN r.lastoperatedate || ' ' || r.lastoperatetime END AS decided_at,
           NULLIF(TRIM(f.khbm), '')                    AS khbm,
           f.khmc                                      AS khmc,
           f.sqje                                      AS sqje
      FROM workflow_requestbase r
      JOIN formtable_main_12 f ON f.requestid = r.requestid
      JOIN workflow_base b ON b.id = r.workflowid
      LEFT JOIN HrmResource h ON h.id = r.creater`,
];

/** Tables (and the view) each database has once seeded. */
export const DEMO_TABLES = {
  erp: ['Customer', 'Inventory', 'SO_SOMain', 'SO_SODetails'],
  finance: ['fin_customer', 'ar_invoice', 'ar_receipt'],
  oa: ['HrmResource', 'workflow_base', 'workflow_requestbase', 'formtable_main_12'],
} as const;
