/**
 * The demo data set, generated in memory: pure and deterministic (same options → same rows), so
 * tests can check its design without a database and every machine seeds the same demo.
 *
 * The design, per ERP customer index i (pattern repeats every 10 / 20 customers):
 *
 * | i % 10 | in finance as                                   | notes                                          |
 * | ------ | ----------------------------------------------- | ---------------------------------------------- |
 * | 0      | same credit code, same name                      | demo edits: ERP phone + finance credit limit   |
 * | 1      | same credit code, region in brackets             | 华为技术（北京）有限公司 vs 北京华为技术有限公司     |
 * | 2      | same credit code, same name                      | ERP name has a trailing full-width space;      |
 * |        |                                                  | demo edits: both change the phone → conflict   |
 * | 3      | same credit code, full-width space in the name   |                                                |
 * | 4      | same credit code, same name                      | demo edits: both change the credit limit       |
 * | 5      | same credit code                                 | already in conflict: different credit limit    |
 * | 6      | same credit code                                 | i%20=6: already in conflict: different phone;  |
 * |        |                                                  | i%20=16: name without 有限公司                  |
 * | 7      | name variant only, no credit code in finance     | probable match (merge candidate)               |
 * | 8      | not in finance (ERP only)                        | i%20=18: inactive; the demo edits change i=8   |
 * | 9      | i%20=9: short name + same phone, no credit code  | probable match by phone                        |
 * |        | i%20=19: not in finance, no credit code in ERP   | a legacy record                                |
 *
 * plus ceil(N/10) customers only finance knows (the first shares a word with an ERP customer but
 * is a different company). Finance numbers its accounts AR-0001… in its own order, so no key lines
 * up with the ERP's C0001….
 */
import { makeCreditCode, CREDIT_CODE_CHARSET } from '../identity/credit-code.js';
import { Random } from './random.js';
import {
  AR_CLERKS,
  BRANDS,
  BUILDINGS,
  CITIES,
  COMPANIES,
  FINANCE_ONLY_COMPANIES,
  PRODUCTS,
  SALES,
  STREETS,
  SUFFIXES,
  TRADES,
  isMunicipality,
  type City,
  type CompanySeed,
  type SalesPerson,
} from './data/reference.js';
import { AS_OF, addDays, daysBetween, isoUtc, minDay, shanghaiDateTime, shanghaiInstant } from './time.js';

/** A row as inserted: column → value. Money is a number with at most 2 decimals (from cents). */
export type SeedRow = Record<string, string | number | null>;

export interface GenerateOptions {
  /** ERP customers (default 40, at least 10). */
  customers?: number;
  /** Seed of the PRNG; the default gives the documented demo. */
  seed?: string;
}

export const DEFAULT_CUSTOMERS = 40;
export const MIN_CUSTOMERS = 10;
export const MAX_CUSTOMERS = 100_000;
export const DEFAULT_SEED = 'crmlink-demo-v1';

/** How a finance account is connected to an ERP customer. */
export type LinkKind = 'creditCode' | 'name' | 'phone';

/** How a name is spelled differently from the registered name. */
export type NameVariant = 'same' | 'bracketRegion' | 'fullWidthSpace' | 'noSuffix' | 'fullWidth' | 'cityForm' | 'trailingSpace';

export interface DemoLink {
  erpCode: string;
  acctNo: string;
  /** creditCode: sure match; name / phone: probable (a merge candidate). */
  kind: LinkKind;
  erpName: string;
  financeName: string;
  creditCode: string | null;
  /** CRM fields whose values already differ between ERP and finance. */
  differs: ('creditLimit' | 'phone')[];
}

export interface DemoPlan {
  customers: number;
  links: DemoLink[];
  /** ERP customers finance does not know. */
  erpOnly: string[];
  /** Finance accounts the ERP does not know. */
  financeOnly: string[];
  /** A finance-only account whose name shares a word with an ERP customer (must NOT match). */
  falseFriend: { acctNo: string; name: string; erpCode: string; erpName: string } | null;
}

export interface DemoDataset {
  erp: { Customer: SeedRow[]; Inventory: SeedRow[]; SO_SOMain: SeedRow[]; SO_SODetails: SeedRow[] };
  finance: { fin_customer: SeedRow[]; ar_invoice: SeedRow[]; ar_receipt: SeedRow[] };
  oa: { HrmResource: SeedRow[]; workflow_base: SeedRow[]; workflow_requestbase: SeedRow[]; formtable_main_12: SeedRow[] };
  plan: DemoPlan;
}

/** The OA workflows whose form is formtable_main_12 (e-cology: formid -12). */
export const WORKFLOWS = [
  { id: 12, name: '信用额度调整流程', type: '信用额度调整' },
  { id: 15, name: '特价审批流程', type: '特价审批' },
  { id: 18, name: '合同审批流程', type: '合同审批' },
] as const;

// ------------------------------------------------------------------------------------------------
// Companies
// ------------------------------------------------------------------------------------------------

interface Company {
  seed: CompanySeed;
  name: string;
  city: City;
  district: readonly [string, string];
  address: string;
  phone: string;
  mobile: string;
  contact: string;
  email: string;
  creditCode: string;
  owner: SalesPerson;
  creditLimitCents: number;
  createdAt: Date;
  modifiedAt: Date;
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林', '高', '罗'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀英', '建华', '志强', '海燕', '晓东'];
const CREDIT_LIMITS_YUAN = [100_000, 200_000, 300_000, 500_000, 800_000, 1_000_000, 1_500_000, 2_000_000, 3_000_000, 5_000_000];

/** The registered name: prefix + core + suffix. */
export function registeredName(s: CompanySeed): string {
  return `${s.prefix}${s.core}${s.suffix}`;
}

function identityKey(s: CompanySeed): string {
  return `${s.city}|${s.core}`;
}

/** Region without 市/省, as people put it in brackets: 深圳市 → 深圳. */
function regionShort(prefix: string): string {
  return prefix.replace(/[市省]$/, '');
}

const FULL_WIDTH: Record<string, string> = { '(': '（', ')': '）', ' ': '\u3000' };
function toFullWidth(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    if (code >= 0x21 && code <= 0x7e) out += FULL_WIDTH[ch] ?? String.fromCharCode(code + 0xfee0);
    else out += FULL_WIDTH[ch] ?? ch;
  }
  return out;
}

/** The same company, spelled another way (what a finance clerk or an OA user types). */
export function nameVariant(s: CompanySeed, variant: NameVariant): string {
  switch (variant) {
    case 'same':
      return registeredName(s);
    case 'bracketRegion':
      return s.prefix ? `${s.core}（${regionShort(s.prefix)}）${s.suffix}` : registeredName(s);
    case 'fullWidthSpace':
      return `${s.prefix}${s.core}\u3000${s.suffix}`;
    case 'noSuffix':
      return `${s.prefix}${s.core}`;
    case 'fullWidth': {
      // Full-width letters and digits where there are any, else a full-width space after the region.
      const wide = toFullWidth(registeredName(s));
      return wide !== registeredName(s) ? wide : `${s.prefix}\u3000${s.core}${s.suffix}`;
    }
    case 'cityForm': {
      const p = s.prefix.endsWith('市') || s.prefix.endsWith('省') ? regionShort(s.prefix) : `${s.prefix}市`;
      return `${p}${s.core}${s.suffix}`;
    }
    case 'trailingSpace':
      return `${registeredName(s)}\u3000`;
  }
}

/** GB 11714 organisation code: 8 characters and their check character. */
function organisationCode(rng: Random): string {
  const letters = CREDIT_CODE_CHARSET;
  const body = rng.chance(0.6)
    ? rng.digits(8)
    : `MA${rng.int(0, 9)}${Array.from({ length: 5 }, () => rng.pick([...letters])).join('')}`;
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = body[i];
    const v = ch >= '0' && ch <= '9' ? Number(ch) : ch.charCodeAt(0) - 55; // A = 10 … Z = 35
    sum += v * weights[i];
  }
  const c = 11 - (sum % 11);
  return body + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
}

/** A valid unified social credit code for an enterprise (9 = AIC, 1 = enterprise) in a district. */
function creditCodeFor(rng: Random, divisionCode: string, used: Set<string>): string {
  for (;;) {
    const code = makeCreditCode(`91${divisionCode}${organisationCode(rng)}`);
    if (!used.has(code)) {
      used.add(code);
      return code;
    }
  }
}

function landline(rng: Random, city: City): string {
  return `${city.area}-${rng.int(5, 8)}${rng.digits(7)}`;
}

function mobileNumber(rng: Random): string {
  return `1${rng.pick(['38', '39', '36', '58', '59', '86', '88', '35', '37', '89'])}${rng.digits(8)}`;
}

function personName(rng: Random): string {
  return rng.pick(SURNAMES) + rng.pick(GIVEN);
}

function addressIn(rng: Random, city: City, district: string): string {
  const head = `${isMunicipality(city) ? '' : city.province}${city.full}${district}`;
  const street = `${rng.pick(STREETS)}${rng.int(1, 999)}号`;
  const tail = rng.weighted<string>([
    [`${rng.pick(BUILDINGS)}${rng.int(2, 32)}层`, 5],
    [`${rng.int(1, 12)}号楼${rng.int(1, 20)}0${rng.int(1, 9)}室`, 3],
    ['', 2],
  ]);
  return head + street + tail;
}

/** Generated names once the curated list runs out. */
function syntheticSeed(rng: Random, usedNames: Set<string>, index: number): CompanySeed {
  const cities = Object.values(CITIES);
  for (let attempt = 0; ; attempt++) {
    const city = rng.pick(cities);
    const [brand, brandPy] = rng.pick(BRANDS);
    const [trade, tradePy, industry] = rng.pick(TRADES);
    const suffix = rng.weighted(SUFFIXES);
    // After many collisions (tens of thousands of customers) a number keeps names distinct.
    const core = attempt < 20 ? `${brand}${trade}` : `${brand}${index}${trade}`;
    const prefix = rng.chance(0.3) ? city.full : city.name;
    const seed: CompanySeed = {
      prefix,
      core,
      suffix,
      city: city.name,
      // 恒通机械设备 → 恒通机械; 华信科技 → 华信 (a short name is never the whole name).
      short: trade.length > 2 ? `${brand}${trade.slice(0, 2)}` : brand,
      industry,
      slug: attempt < 20 ? `${brandPy}-${tradePy}` : `${brandPy}${index}-${tradePy}`,
    };
    // One company per city and core: 宁波启航物流有限公司 and 宁波市启航物流股份有限公司 would be
    // the same name to anyone reading them.
    const identity = identityKey(seed);
    if (!usedNames.has(identity)) {
      usedNames.add(identity);
      return seed;
    }
  }
}

function makeCompany(rng: Random, seed: CompanySeed, usedCodes: Set<string>): Company {
  const city = CITIES[seed.city];
  if (!city) throw new Error(`demo data: unknown city ${seed.city}`);
  const district = rng.pick(city.districts);
  const team = SALES.filter((s) => s.team === city.team);
  const created = shanghaiInstant(addDays('2016-01-01', rng.int(0, 3400)), rng.int(8 * 3600, 19 * 3600));
  const modified = shanghaiInstant(addDays('2026-01-05', rng.int(0, 260)), rng.int(8 * 3600, 20 * 3600));
  return {
    seed,
    name: registeredName(seed),
    city,
    district,
    address: addressIn(rng, city, district[0]),
    phone: landline(rng, city),
    mobile: mobileNumber(rng),
    contact: personName(rng),
    email: `${rng.pick(['sales', 'info', 'purchase', 'caigou', 'contact'])}@${seed.slug}.com.cn`,
    creditCode: creditCodeFor(rng, district[1], usedCodes),
    owner: rng.pick(team),
    creditLimitCents: rng.pick(CREDIT_LIMITS_YUAN) * 100,
    createdAt: created,
    modifiedAt: modified,
  };
}

const money = (cents: number): number => cents / 100;
const code4 = (prefix: string, n: number): string => `${prefix}${String(n).padStart(4, '0')}`;

// ------------------------------------------------------------------------------------------------
// The plan: which customer is where, spelled how
// ------------------------------------------------------------------------------------------------

interface ErpDesign {
  link: LinkKind | null;
  financeName: NameVariant | 'short';
  erpName: NameVariant;
  differs: ('creditLimit' | 'phone')[];
  inactive: boolean;
  erpCreditCode: boolean;
}

export function designOf(i: number): ErpDesign {
  const d: ErpDesign = { link: 'creditCode', financeName: 'same', erpName: 'same', differs: [], inactive: false, erpCreditCode: true };
  switch (i % 10) {
    case 1:
      d.financeName = 'bracketRegion';
      break;
    case 2:
      d.erpName = 'trailingSpace';
      break;
    case 3:
      d.financeName = 'fullWidthSpace';
      break;
    case 5:
      d.differs = ['creditLimit'];
      break;
    case 6:
      if (i % 20 === 6) d.differs = ['phone'];
      else d.financeName = 'noSuffix';
      break;
    case 7:
      d.link = 'name';
      d.financeName = (['bracketRegion', 'noSuffix', 'fullWidth', 'cityForm'] as const)[Math.floor(i / 10) % 4];
      break;
    case 8:
      d.link = null;
      d.inactive = i % 20 === 18;
      break;
    case 9:
      if (i % 20 === 9) {
        d.link = 'phone';
        d.financeName = 'short';
      } else {
        d.link = null;
        d.erpCreditCode = false;
      }
      break;
  }
  return d;
}

// ------------------------------------------------------------------------------------------------
// Generation
// ------------------------------------------------------------------------------------------------

export function generateDemoData(opts: GenerateOptions = {}): DemoDataset {
  const n = opts.customers ?? DEFAULT_CUSTOMERS;
  if (!Number.isInteger(n) || n < MIN_CUSTOMERS || n > MAX_CUSTOMERS) {
    throw new RangeError(`demo customers must be an integer from ${MIN_CUSTOMERS} to ${MAX_CUSTOMERS}, got ${n}`);
  }
  const seed = opts.seed ?? DEFAULT_SEED;
  // One random stream per stage, so a stage's rows do not depend on how many draws another made.
  const stream = (name: string): Random => new Random(`${seed}:${name}`);
  const world = companies(n, stream('companies'), stream('finance-only'));
  const erp = erpCustomers(world);
  const finance = financeAccounts(world, erp, stream('finance'));
  const orders = salesOrders(world, erp, stream('orders'));
  const receivables = invoicesAndReceipts(world, finance, orders.ordersOf, stream('receivables'));
  const oa = approvals(world, erp, stream('oa'));
  lowerLimitsBelowBalances(world, erp, finance, receivables.ar_invoice);
  return {
    erp: { Customer: erp.Customer, Inventory: inventory(), SO_SOMain: orders.SO_SOMain, SO_SODetails: orders.SO_SODetails },
    finance: { fin_customer: finance.fin_customer, ...receivables },
    oa,
    plan: {
      customers: n,
      links: finance.links,
      erpOnly: erp.codes.filter((_, i) => !world.designs[i].link),
      financeOnly: [...finance.financeOnlyKeys].sort(),
      falseFriend: falseFriendOf(world, erp, finance),
    },
  };
}

/**
 * Over-limit customers (overLimitDesign): credit limit, in the ERP and in finance alike, set to
 * 60 % of what they owe (rounded down to 10,000), so the analysis flags them.
 */
function lowerLimitsBelowBalances(world: DemoWorld, erp: ErpSide, finance: FinanceSide, invoices: readonly SeedRow[]): void {
  const owed = new Map<string, number>();
  for (const inv of invoices) owed.set(String(inv.acct_no), (owed.get(String(inv.acct_no)) ?? 0) + Math.round(Number(inv.balance) * 100));
  world.erpCompanies.forEach((_, i) => {
    const acctNo = finance.acctOf.get(i);
    if (!overLimitDesign(i) || !acctNo) return;
    const balance = owed.get(acctNo) ?? 0;
    if (balance <= 0) return;
    const limitCents = Math.max(1_000_000, Math.floor((balance * 0.6) / 1_000_000) * 1_000_000);
    erp.Customer[i].iCusCreLine = money(limitCents);
    const row = finance.fin_customer.find((r) => r.acct_no === acctNo);
    if (row) row.credit_limit = money(limitCents);
  });
}

/** The companies: ERP customers with their design (see the module comment), and finance-only ones. */
interface DemoWorld {
  erpCompanies: Company[];
  financeOnly: Company[];
  designs: ErpDesign[];
}

interface ErpSide {
  codes: string[];
  Customer: SeedRow[];
}

interface FinanceSide {
  fin_customer: SeedRow[];
  links: DemoLink[];
  /** ERP customer index → finance account number. */
  acctOf: Map<number, string>;
  financeOnlyKeys: string[];
}

interface OrderSummary {
  code: string;
  date: string;
  state: string;
  totalCents: number;
}

const WINDOW_START = addDays(AS_OF, -364);
/** Orders go back two years, so the analysis has a current year and the one before to compare. */
const HISTORY_DAYS = 729;
const HISTORY_START = addDays(AS_OF, -HISTORY_DAYS);

/**
 * How a customer buys over the two years (customer analysis: lifecycle stages), by ERP index:
 * steady, growing (more recent orders), declining (older ones), new (first order in the last
 * 150 days) or lapsed (nothing for over a year; also every inactive customer).
 */
export type BuyingProfile = 'steady' | 'growing' | 'declining' | 'new' | 'lapsed';
const PROFILES: readonly BuyingProfile[] = ['steady', 'growing', 'steady', 'declining', 'new', 'steady', 'lapsed', 'growing'];

export function buyingProfileOf(i: number, d: Pick<ErpDesign, 'inactive'>): BuyingProfile {
  return d.inactive ? 'lapsed' : PROFILES[i % PROFILES.length];
}

/**
 * Order quantities scale by customer size, a few large customers and many small ones, so profit
 * contribution follows a Pareto curve (a tenth of the customers carries about half the profit).
 */
const SIZES: readonly number[] = [12, 1, 3, 0.5, 1, 6, 0.3, 1.5, 2, 0.8, 1, 0.4];

export function customerSizeOf(i: number): number {
  return SIZES[i % SIZES.length];
}

/** Customers (i % 10 = 3) whose credit limit the demo sets below what they owe: over their limit. */
export function overLimitDesign(i: number): boolean {
  return i % 10 === 3;
}

function companies(n: number, rngCo: Random, rngFo: Random): DemoWorld {
  const usedCodes = new Set<string>();
  const usedNames = new Set<string>([...COMPANIES, ...FINANCE_ONLY_COMPANIES].map(identityKey));
  const erpCompanies: Company[] = [];
  for (let i = 0; i < n; i++) {
    const s = i < COMPANIES.length ? COMPANIES[i] : syntheticSeed(rngCo, usedNames, i);
    erpCompanies.push(makeCompany(rngCo, s, usedCodes));
  }
  const financeOnly: Company[] = [];
  for (let j = 0; j < Math.ceil(n / 10); j++) {
    const s = j < FINANCE_ONLY_COMPANIES.length ? FINANCE_ONLY_COMPANIES[j] : syntheticSeed(rngFo, usedNames, n + j);
    financeOnly.push(makeCompany(rngFo, s, usedCodes));
  }
  return { erpCompanies, financeOnly, designs: erpCompanies.map((_, i) => designOf(i)) };
}

function erpCustomers(world: DemoWorld): ErpSide {
  const codes = world.erpCompanies.map((_, i) => code4('C', i + 1));
  const Customer: SeedRow[] = world.erpCompanies.map((co, i) => {
    const d = world.designs[i];
    return {
      cCusCode: codes[i],
      cCusName: nameVariant(co.seed, d.erpName),
      cCusAbbName: co.seed.short,
      cCusRegCode: d.erpCreditCode ? co.creditCode : null,
      cCusPhone: co.phone,
      cCusHand: co.mobile,
      cCusPerson: co.contact,
      cCusEmail: co.email,
      cCusAddress: co.address,
      cCusProvince: co.city.province,
      cCusCity: co.city.full,
      cTrade: co.seed.industry,
      iCusCreLine: money(co.creditLimitCents),
      cCusPPerson: co.owner.id,
      cCusDepart: co.owner.team,
      cCusState: d.inactive ? '0' : '1',
      dCusCreateDatetime: shanghaiDateTime(co.createdAt),
      dModifyDate: shanghaiDateTime(co.modifiedAt),
    };
  });
  return { codes, Customer };
}

/** Finance accounts: linked ERP customers and finance-only ones, numbered in finance's own order. */
function financeAccounts(world: DemoWorld, erp: ErpSide, rngFin: Random): FinanceSide {
  type FinEntry = { company: Company; erpIndex: number | null };
  const entries: FinEntry[] = [
    ...world.erpCompanies.flatMap((company, i) => (world.designs[i].link ? [{ company, erpIndex: i }] : [])),
    ...world.financeOnly.map((company) => ({ company, erpIndex: null })),
  ];
  const out: FinanceSide = { fin_customer: [], links: [], acctOf: new Map(), financeOnlyKeys: [] };
  rngFin.shuffle(entries).forEach((entry, k) => {
    const acctNo = `AR-${String(k + 1).padStart(4, '0')}`;
    const co = entry.company;
    const values = { name: registeredName(co.seed), creditCode: co.creditCode as string | null, phone: co.phone, limit: co.creditLimitCents };
    if (entry.erpIndex !== null) linkAccount(world, erp, rngFin, entry.erpIndex, acctNo, values, out);
    else out.financeOnlyKeys.push(acctNo);
    const updated = new Date(co.modifiedAt.getTime() + rngFin.int(-40, 40) * 86_400_000 + rngFin.int(0, 86_399) * 1000);
    out.fin_customer.push({
      acct_no: acctNo,
      cust_name: values.name,
      credit_code: values.creditCode,
      tel: values.phone,
      credit_limit: money(values.limit),
      owner: rngFin.pick(AR_CLERKS).id,
      updated_at: isoUtc(minInstant(updated, shanghaiInstant(AS_OF, 18 * 3600))),
    });
  });
  out.links.sort((a, b) => (a.erpCode < b.erpCode ? -1 : 1));
  out.fin_customer.sort((a, b) => (String(a.acct_no) < String(b.acct_no) ? -1 : 1));
  return out;
}

/** How a linked account differs from its ERP customer, by the customer's design. */
function linkAccount(
  world: DemoWorld,
  erp: ErpSide,
  rngFin: Random,
  erpIndex: number,
  acctNo: string,
  values: { name: string; creditCode: string | null; phone: string; limit: number },
  out: FinanceSide,
): void {
  const d = world.designs[erpIndex];
  const co = world.erpCompanies[erpIndex];
  values.name = d.financeName === 'short' ? co.seed.short : nameVariant(co.seed, d.financeName);
  if (d.link !== 'creditCode') values.creditCode = null;
  if (d.differs.includes('phone')) values.phone = landline(rngFin, co.city);
  if (d.differs.includes('creditLimit')) {
    const delta = rngFin.int(2, 10) * 50_000 * 100;
    values.limit = values.limit > delta && rngFin.chance(0.5) ? values.limit - delta : values.limit + delta;
  }
  out.acctOf.set(erpIndex, acctNo);
  out.links.push({
    erpCode: erp.codes[erpIndex],
    acctNo,
    kind: d.link ?? 'creditCode',
    erpName: String(erp.Customer[erpIndex].cCusName),
    financeName: values.name,
    creditCode: values.creditCode,
    differs: [...d.differs],
  });
}

/** Reference cost (参考成本): 58–86 % of the reference price, varying by product so margins differ. */
export function unitCostOf(p: { price: string }, index: number): number {
  const percent = 58 + ((index * 7) % 29);
  return Math.round(Number(p.price) * percent) / 100;
}

function inventory(): SeedRow[] {
  return PRODUCTS.map((p, k) => ({
    cInvCode: p.code,
    cInvName: p.name,
    cInvStd: p.spec,
    cInvCCode: p.category,
    cComUnitCode: p.unit,
    iInvSPrice: Number(p.price),
    iInvSCost: unitCostOf(p, k),
    dEDate: null,
    dModifyDate: '2025-12-28 09:30:00',
  }));
}

interface OrderDraft {
  erpIndex: number;
  date: string;
  state: string;
  person: SalesPerson;
  lines: { product: (typeof PRODUCTS)[number]; qtyMilli: number; priceCents: number; sumCents: number }[];
  memo: string | null;
}

/** Who approves and closes the demo's sales orders. */
const APPROVER = '周建国';

function salesOrders(world: DemoWorld, erp: ErpSide, rngSo: Random): { SO_SOMain: SeedRow[]; SO_SODetails: SeedRow[]; ordersOf: Map<number, OrderSummary[]> } {
  const drafts = world.erpCompanies.flatMap((co, i) => orderDrafts(co, i, world.designs[i], rngSo));
  drafts.sort((a, b) => (a.date === b.date ? a.erpIndex - b.erpIndex : a.date < b.date ? -1 : 1));
  const out = { SO_SOMain: [] as SeedRow[], SO_SODetails: [] as SeedRow[], ordersOf: new Map<number, OrderSummary[]>() };
  let autoId = 1;
  drafts.forEach((o, k) => {
    const id = 1_000_001 + k;
    const code = `SO${o.date.slice(0, 4)}${String(k + 1).padStart(6, '0')}`;
    const totalCents = o.lines.reduce((s, l) => s + l.sumCents, 0);
    const modified = shanghaiInstant(minDay(addDays(o.date, rngSo.int(0, 20)), AS_OF), rngSo.int(8 * 3600, 21 * 3600));
    out.SO_SOMain.push({
      ID: id,
      cSOCode: code,
      dDate: o.date,
      cCusCode: erp.codes[o.erpIndex],
      cState: o.state,
      // U8 itself: approved = cVerifier set, closed = cCloser set (0 开立 has neither).
      cVerifier: o.state === '0' ? null : APPROVER,
      cCloser: o.state === '3' || o.state === '4' ? APPROVER : null,
      cPersonCode: o.person.id,
      cDepCode: o.person.team,
      cexch_name: '人民币',
      iMoney: money(totalCents),
      cMaker: o.person.name,
      cMemo: o.memo,
      dModifyDate: shanghaiDateTime(modified),
    });
    o.lines.forEach((l, r) => {
      const auto = autoId++;
      out.SO_SODetails.push({ AutoID: auto, ID: id, cSOCode: code, iSOsID: 2_000_000 + auto, iRowNo: r + 1, cInvCode: l.product.code, cInvName: l.product.name, iQuantity: l.qtyMilli / 1000, iTaxUnitPrice: money(l.priceCents), iSum: money(l.sumCents) });
    });
    const list = out.ordersOf.get(o.erpIndex) ?? [];
    list.push({ code, date: o.date, state: o.state, totalCents });
    out.ordersOf.set(o.erpIndex, list);
  });
  return out;
}

/** One customer's orders of the last two years, by its buying profile and size. */
function orderDrafts(co: Company, erpIndex: number, d: ErpDesign, rngSo: Random): OrderDraft[] {
  const out: OrderDraft[] = [];
  const profile = buyingProfileOf(erpIndex, d);
  const count = profile === 'lapsed' || profile === 'new' ? rngSo.int(1, 3) : rngSo.int(3, 7);
  for (let k = 0; k < count; k++) {
    const u = rngSo.int(0, 10_000) / 10_000;
    const back =
      profile === 'lapsed'
        ? 400 + Math.floor(u * (HISTORY_DAYS - 400))
        : profile === 'new'
          ? Math.floor(u * 150)
          : profile === 'growing'
            ? Math.floor(u * u * HISTORY_DAYS)
            : profile === 'declining'
              ? HISTORY_DAYS - Math.floor(u * u * HISTORY_DAYS)
              : Math.floor(u * HISTORY_DAYS);
    const date = minDay(addDays(AS_OF, -back), AS_OF);
    const age = daysBetween(date, AS_OF);
    const state =
      age > 90
        ? rngSo.weighted([['3', 80], ['2', 15], ['4', 5]])
        : age > 25
          ? rngSo.weighted([['2', 60], ['3', 30], ['1', 10]])
          : rngSo.weighted([['1', 55], ['0', 30], ['2', 15]]);
    const lines = rngSo.sample(PRODUCTS, rngSo.int(1, 4)).map((product) => orderLine(product, rngSo, customerSizeOf(erpIndex)));
    const person = rngSo.chance(0.9) ? co.owner : rngSo.pick(SALES);
    const memo = rngSo.weighted<string | null>([[null, 6], ['年度框架协议', 1], ['加急发货', 1], ['分批交货', 1], ['含安装调试', 1]]);
    out.push({ erpIndex, date, state, person, lines, memo });
  }
  return out;
}

function orderLine(product: (typeof PRODUCTS)[number], rngSo: Random, size: number): OrderDraft['lines'][number] {
  const base =
    product.unit === '吨'
      ? rngSo.int(500, 60_000)
      : product.unit === '米'
        ? rngSo.int(10, 500) * 10_000
        : product.unit === '箱'
          ? rngSo.int(10, 200) * 1000
          : product.unit === '人天'
            ? rngSo.int(5, 60) * 1000
            : rngSo.int(1, 40) * 1000;
  // Whole units stay whole: only tonnes are sold in fractions.
  const qtyMilli = product.unit === '吨' ? Math.max(1, Math.round(base * size)) : Math.max(1, Math.round((base * size) / 1000)) * 1000;
  const list = Math.round(Number(product.price) * 100);
  const priceCents = Math.round((list * rngSo.int(85, 105)) / 100);
  return { product, qtyMilli, priceCents, sumCents: Math.round((qtyMilli * priceCents) / 1000) };
}

interface InvoiceDraft {
  acctNo: string;
  soNo: string | null;
  date: string;
  terms: number;
  amountCents: number;
  status: 'open' | 'partial' | 'paid' | 'void';
  paidCents: number;
  receipts: { date: string; cents: number; method: string }[];
}

const PAYMENT_METHODS: (readonly [string, number])[] = [['银行转账', 7], ['银行承兑汇票', 2], ['电汇', 1]];

/** Invoices of shipped and closed ERP orders and of finance-only accounts, with their receipts. */
function invoicesAndReceipts(world: DemoWorld, finance: FinanceSide, ordersOf: Map<number, OrderSummary[]>, rngAr: Random): { ar_invoice: SeedRow[]; ar_receipt: SeedRow[] } {
  const drafts: InvoiceDraft[] = [];
  world.erpCompanies.forEach((_, i) => {
    const acctNo = finance.acctOf.get(i);
    if (!acctNo) return;
    const invoiced = (ordersOf.get(i) ?? []).filter((o) => o.state === '2' || o.state === '3');
    const latest = invoiced.reduce<OrderSummary | null>((m, o) => (m === null || o.date > m.date ? o : m), null);
    for (const o of invoiced) {
      const date = minDay(addDays(o.date, rngAr.int(2, 15)), AS_OF);
      let status: InvoiceDraft['status'] = o.state === '3' ? rngAr.weighted([['paid', 85], ['partial', 10], ['void', 5]]) : rngAr.weighted([['open', 50], ['partial', 30], ['paid', 20]]);
      // An over-limit customer's latest invoice is still open (drawn first, so the stream is unchanged).
      if (overLimitDesign(i) && o === latest) status = 'open';
      drafts.push(invoiceDraft(acctNo, o.code, date, o.totalCents, status, rngAr));
    }
  });
  for (const row of finance.fin_customer) {
    if (!finance.financeOnlyKeys.includes(String(row.acct_no))) continue;
    const count = rngAr.int(2, 5);
    for (let k = 0; k < count; k++) {
      const date = addDays(WINDOW_START, rngAr.int(0, 364));
      const amountCents = rngAr.int(800_000, 60_000_000);
      const old = daysBetween(date, AS_OF) > 100;
      const status: InvoiceDraft['status'] = old ? rngAr.weighted([['paid', 80], ['partial', 10], ['void', 10]]) : rngAr.weighted([['open', 50], ['partial', 25], ['paid', 25]]);
      drafts.push(invoiceDraft(String(row.acct_no), null, date, amountCents, status, rngAr));
    }
  }
  drafts.sort((a, b) => (a.date === b.date ? (a.acctNo < b.acctNo ? -1 : 1) : a.date < b.date ? -1 : 1));
  return invoiceRows(drafts, rngAr);
}

function invoiceDraft(acctNo: string, soNo: string | null, date: string, amountCents: number, status: InvoiceDraft['status'], rngAr: Random): InvoiceDraft {
  const terms = rngAr.pick([30, 60, 90]);
  let paidCents = 0;
  const receipts: InvoiceDraft['receipts'] = [];
  const receiptDate = () => minDay(addDays(date, rngAr.int(5, terms + 20)), AS_OF);
  if (status === 'paid') {
    paidCents = amountCents;
    if (amountCents > 20_000_00 && rngAr.chance(0.35)) {
      const first = Math.round((amountCents * rngAr.int(30, 70)) / 10_000) * 100;
      const d1 = receiptDate();
      receipts.push({ date: d1, cents: first, method: rngAr.weighted(PAYMENT_METHODS) });
      receipts.push({ date: minDay(addDays(d1, rngAr.int(5, 30)), AS_OF), cents: amountCents - first, method: rngAr.weighted(PAYMENT_METHODS) });
    } else {
      receipts.push({ date: receiptDate(), cents: amountCents, method: rngAr.weighted(PAYMENT_METHODS) });
    }
  } else if (status === 'partial') {
    paidCents = Math.max(100, Math.round((amountCents * rngAr.int(20, 80)) / 10_000) * 100);
    if (paidCents >= amountCents) paidCents = Math.floor(amountCents / 2);
    receipts.push({ date: receiptDate(), cents: paidCents, method: rngAr.weighted(PAYMENT_METHODS) });
  }
  return { acctNo, soNo, date, terms, amountCents, status, paidCents, receipts };
}

function invoiceRows(drafts: readonly InvoiceDraft[], rngAr: Random): { ar_invoice: SeedRow[]; ar_receipt: SeedRow[] } {
  const ar_invoice: SeedRow[] = [];
  const receipts: { acctNo: string; invNo: string; date: string; cents: number; method: string }[] = [];
  drafts.forEach((inv, k) => {
    const invNo = `INV${inv.date.slice(0, 4)}${String(k + 1).padStart(5, '0')}`;
    const last = inv.receipts.reduce((m, r) => (r.date > m ? r.date : m), inv.date);
    ar_invoice.push({
      inv_no: invNo,
      acct_no: inv.acctNo,
      so_no: inv.soNo,
      inv_date: inv.date,
      due_date: addDays(inv.date, inv.terms),
      currency: 'CNY',
      amount: money(inv.amountCents),
      paid: money(inv.paidCents),
      balance: inv.status === 'void' ? 0 : money(inv.amountCents - inv.paidCents),
      status: inv.status,
      updated_at: isoUtc(shanghaiInstant(last, rngAr.int(9 * 3600, 18 * 3600))),
    });
    for (const r of inv.receipts) receipts.push({ acctNo: inv.acctNo, invNo, date: r.date, cents: r.cents, method: r.method });
  });
  receipts.sort((a, b) => (a.date === b.date ? (a.invNo < b.invNo ? -1 : 1) : a.date < b.date ? -1 : 1));
  const ar_receipt: SeedRow[] = receipts.map((r, k) => ({
    rcpt_no: `SK${r.date.slice(0, 4)}${String(k + 1).padStart(5, '0')}`,
    acct_no: r.acctNo,
    inv_no: r.invNo,
    rcpt_date: r.date,
    amount: money(r.cents),
    method: r.method,
  }));
  return { ar_invoice, ar_receipt };
}

interface RequestDraft {
  workflow: (typeof WORKFLOWS)[number];
  creator: { hrmId: number; name: string };
  khmc: string;
  khbm: string;
  amountCents: number;
  note: string;
  day: string;
  second: number;
  short: string;
}

/** OA approval requests about customers, typed by hand in the form (names as people spell them). */
function approvals(world: DemoWorld, erp: ErpSide, rngOa: Random): DemoDataset['oa'] {
  const HrmResource: SeedRow[] = [
    ...SALES.map((s) => ({ id: s.hrmId, loginid: s.id, lastname: s.name, departmentid: s.team })),
    ...AR_CLERKS.map((f) => ({ id: f.hrmId, loginid: f.id, lastname: f.name, departmentid: 'finance' })),
  ];
  const workflow_base: SeedRow[] = WORKFLOWS.map((w) => ({ id: w.id, workflowname: w.name, formid: -12, isvalid: '1' }));
  const drafts: RequestDraft[] = [];
  world.erpCompanies.forEach((co, i) => {
    const count = world.designs[i].inactive ? 0 : rngOa.weighted([[0, 25], [1, 35], [2, 28], [3, 12]]);
    for (let k = 0; k < count; k++) drafts.push(requestDraft(co, erp.codes[i], rngOa));
  });
  for (const co of world.financeOnly) drafts.push(requestDraft(co, null, rngOa));
  drafts.sort((a, b) => (a.day === b.day ? a.second - b.second : a.day < b.day ? -1 : 1));
  return { HrmResource, workflow_base, ...requestRows(drafts, rngOa) };
}

function typedName(co: Company, rngOa: Random): string {
  return rngOa.weighted<string>([
    [registeredName(co.seed), 45],
    [co.seed.short, 20],
    [nameVariant(co.seed, rngOa.pick(['bracketRegion', 'noSuffix', 'fullWidthSpace', 'cityForm'] as const)), 20],
    [`${registeredName(co.seed)} `, 10],
    [nameVariant(co.seed, 'fullWidth'), 5],
  ]);
}

function requestDraft(co: Company, erpCode: string | null, rngOa: Random): RequestDraft {
  const workflow = rngOa.weighted<(typeof WORKFLOWS)[number]>([[WORKFLOWS[0], 3], [WORKFLOWS[1], 4], [WORKFLOWS[2], 3]]);
  const amountCents =
    workflow.id === 12 ? co.creditLimitCents + rngOa.int(2, 20) * 50_000 * 100 : workflow.id === 15 ? rngOa.int(200_000, 15_000_000) : rngOa.int(5_000_000, 300_000_000);
  const note =
    workflow.id === 12
      ? rngOa.pick(['客户回款良好，申请上调信用额度', '年度订单增长，临时上调额度', '新项目备货，申请调整额度'])
      : workflow.id === 15
        ? rngOa.pick(['季度大单特价', '竞品报价较低，申请特价', '老客户年度返利折让'])
        : rngOa.pick(['年度框架合同续签', '新签采购合同', '补充协议（交期调整）']);
  return {
    workflow,
    creator: co.owner,
    khmc: typedName(co, rngOa),
    khbm: erpCode !== null && rngOa.chance(0.6) ? erpCode : '',
    amountCents,
    note,
    day: addDays(AS_OF, -rngOa.int(0, 200)),
    second: rngOa.int(8 * 3600 + 1800, 19 * 3600),
    short: co.seed.short,
  };
}

function requestRows(drafts: readonly RequestDraft[], rngOa: Random): { workflow_requestbase: SeedRow[]; formtable_main_12: SeedRow[] } {
  const out = { workflow_requestbase: [] as SeedRow[], formtable_main_12: [] as SeedRow[] };
  drafts.forEach((r, k) => {
    const requestid = 10_231 + k;
    const [nodeType, status] =
      daysBetween(r.day, AS_OF) > 20
        ? rngOa.weighted<readonly [string, string]>([[['3', '归档'], 80], [['0', '退回'], 15], [['0', '撤回'], 5]])
        : rngOa.weighted<readonly [string, string]>([
            [['1', rngOa.pick(['部门经理审批', '销售总监审批', '财务总监审批'])], 55],
            [['3', '归档'], 25],
            [['0', '申请人提交'], 10],
            [['0', '退回'], 10],
          ]);
    const created = shanghaiInstant(r.day, r.second);
    const lastDay = minDay(addDays(r.day, nodeType === '1' ? rngOa.int(0, 2) : rngOa.int(1, 7)), AS_OF);
    const last = shanghaiInstant(lastDay, Math.max(r.second, rngOa.int(9 * 3600, 20 * 3600)));
    const createdText = shanghaiDateTime(created);
    const lastText = shanghaiDateTime(last.getTime() < created.getTime() ? created : last);
    out.workflow_requestbase.push({
      requestid,
      workflowid: r.workflow.id,
      requestname: `${r.workflow.type}-${r.short}-${r.creator.name}-${createdText.slice(0, 10)}`,
      currentnodetype: nodeType,
      status,
      creater: r.creator.hrmId,
      createdate: createdText.slice(0, 10),
      createtime: createdText.slice(11),
      lastoperatedate: lastText.slice(0, 10),
      lastoperatetime: lastText.slice(11),
      lastnodetype: status === '退回' ? '1' : nodeType === '3' ? '1' : nodeType === '1' ? '0' : null,
      currentstatus: status === '撤回' ? 1 : null,
      crmids: null,
      deleted: 0,
      requestlevel: 0,
    });
    out.formtable_main_12.push({ id: k + 1, requestid, khmc: r.khmc, khbm: r.khbm, sqje: money(r.amountCents), sqlx: r.workflow.type, sqsm: r.note });
  });
  return out;
}

/** The false friend: a finance-only company sharing a word with an ERP customer. */
function falseFriendOf(world: DemoWorld, erp: ErpSide, finance: FinanceSide): DemoPlan['falseFriend'] {
  const ff = world.financeOnly[0];
  const ffRow = finance.fin_customer.find((r) => r.cust_name === ff.name);
  const twin = world.erpCompanies.findIndex((co) => co.seed.core.slice(0, 2) === ff.seed.core.slice(0, 2));
  if (!ffRow || twin < 0) return null;
  return { acctNo: String(ffRow.acct_no), name: ff.name, erpCode: erp.codes[twin], erpName: world.erpCompanies[twin].name };
}

function minInstant(a: Date, b: Date): Date {
  return a.getTime() < b.getTime() ? a : b;
}
