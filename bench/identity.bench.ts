/**
 * Identity matching benchmark.
 *
 *   node --import tsx bench/identity.bench.ts [n]      (default n = 100000)
 *
 * Generates n synthetic Chinese company records per side (deterministic), ~30% of the right side
 * being variants of left records (region moved into brackets, full-width spaces, other legal form,
 * traditional characters, reformatted phone, shared credit code for half of them), runs matchAll
 * and compares its time with a floor: normalising the 2n names and putting them in a Map, which
 * any name-based matcher must at least do.
 */
import { DEFAULT_RULES, makeCreditCode, matchAll, normalizeCompanyName, type MatchInput } from '../identity/index.js';
import { mulberry32 } from '../demo/random.js';

const REGIONS = ['北京', '上海', '天津', '重庆', '广州', '深圳', '杭州', '南京', '苏州', '成都', '武汉', '西安', '青岛', '厦门', '宁波', '长沙'];
const BRAND_CHARS = [...'华为腾讯阿里巴百度京东美的格力海尔联想中兴小米网易新浪搜狐携程顺丰比亚迪万科恒碧桂园龙湖融创金地保利招商平安泰康蓝光正荣远洋首开建发永辉苏宁国美大润发盒马鲜生拼多多字节跳动快手滴滴美团饿了么'];
const INDUSTRIES = ['技术', '科技', '贸易', '实业', '电子', '物流', '发展', '信息技术', '网络科技', '电气', '医药', '食品', '机械', '建设', '投资', '咨询', '文化传媒', '新材料', '环保', '能源'];
const SUFFIXES = ['有限公司', '股份有限公司', '有限责任公司', '集团有限公司'];
const TO_TRADITIONAL: Record<string, string> = { 华: '華', 为: '為', 术: '術', 电: '電', 东: '東', 实: '實', 业: '業', 发: '發', 贸: '貿', 龙: '龍', 国: '國', 联: '聯', 兴: '興' };
const CODE_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

interface Company extends MatchInput {
  region?: string;
  brand: string;
  industry: string;
  suffix: string;
}

function generate(n: number, seed: number): { left: MatchInput[]; right: MatchInput[]; planted: Map<string, string> } {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const digits = (k: number) => Array.from({ length: k }, () => Math.floor(rnd() * 10)).join('');
  const code = () => {
    const body = '91' + digits(6) + Array.from({ length: 9 }, () => pick([...CODE_CHARS])).join('');
    const c = makeCreditCode(body);
    // 1% typos: a wrong check digit, reported as invalid
    return rnd() < 0.01 ? c.slice(0, 17) + (c[17] === '0' ? '1' : '0') : c;
  };
  const company = (i: number, side: string): Company => {
    const region = rnd() < 0.7 ? pick(REGIONS) : undefined;
    const brand = Array.from({ length: 2 + Math.floor(rnd() * 2) }, () => pick(BRAND_CHARS)).join('');
    const c: Company = { id: `${side}${i}`, region, brand, industry: pick(INDUSTRIES), suffix: pick(SUFFIXES) };
    c.name = (region ? region + (rnd() < 0.3 ? '市' : '') : '') + brand + c.industry + c.suffix;
    c.creditCode = rnd() < 0.9 ? code() : null;
    c.phone = rnd() < 0.5 ? `1${3 + Math.floor(rnd() * 7)}${digits(9)}` : `0${digits(2)}-${digits(8)}`;
    c.email = rnd() < 0.6 ? `user${i}${side}@example${Math.floor(rnd() * 1000)}.com` : null;
    return c;
  };

  const leftCo = Array.from({ length: n }, (_, i) => company(i, 'L'));
  const right: MatchInput[] = [];
  const planted = new Map<string, string>(); // right id → left id
  const overlap = Math.floor(n * 0.3);
  for (let i = 0; i < n; i++) {
    if (i >= overlap) {
      right.push(company(i, 'R'));
      continue;
    }
    const src = leftCo[i];
    const id = `R${i}`;
    let core = src.brand + src.industry;
    const kind = Math.floor(rnd() * 4);
    if (kind === 3) core = [...core].map((ch) => TO_TRADITIONAL[ch] ?? ch).join('');
    const suffix = kind === 2 ? pick(SUFFIXES) : src.suffix;
    let name: string;
    if (src.region && kind === 0) name = `${core}（${src.region}）${suffix}`; // region moved into brackets
    else if (kind === 1) name = `${src.region ?? ''}\u3000${core} ${suffix}`; // full-width spaces
    else name = (src.region ?? '') + core + suffix;
    const phone = src.phone && rnd() < 0.5 ? `+86 ${src.phone.replace(/^0/, '')}` : null;
    right.push({ id, name, creditCode: rnd() < 0.5 ? src.creditCode : null, phone, email: null });
    planted.set(id, src.id);
  }
  // Shuffle so that block insertion order does not mirror the left side.
  for (let i = right.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [right[i], right[j]] = [right[j], right[i]];
  }
  const left: MatchInput[] = leftCo.map(({ id, name, creditCode, phone, email }) => ({ id, name, creditCode, phone, email }));
  return { left, right, planted };
}

function baseline(left: readonly MatchInput[], right: readonly MatchInput[]): number {
  const start = performance.now();
  const map = new Map<string, string>();
  for (const rec of left) map.set(normalizeCompanyName(rec.name ?? '').core, rec.id);
  for (const rec of right) map.set(normalizeCompanyName(rec.name ?? '').core, rec.id);
  if (map.size === 0) throw new Error('unreachable: keeps the work from being optimised away');
  return (performance.now() - start) / 1000;
}

function run(n: number) {
  const { left, right, planted } = generate(n, 20240601);
  const baselineSeconds = baseline(left, right);
  const start = performance.now();
  const { matches, invalid } = matchAll(left, right, DEFAULT_RULES);
  const seconds = (performance.now() - start) / 1000;
  let plantedFound = 0;
  for (const m of matches) if (planted.get(m.b) === m.a) plantedFound++;
  return { n, seconds, matches: matches.length, invalid: invalid.length, planted: planted.size, plantedFound, baselineSeconds };
}

const n = Number(process.argv[2] ?? 100_000);
if (!Number.isInteger(n) || n <= 0) {
  console.error('usage: node --import tsx bench/identity.bench.ts [n]');
  process.exit(2);
}
run(Math.min(n, 2000)); // warm-up, so that both measurements run optimised code
const r = run(n);
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
console.log(
  JSON.stringify({
    n: r.n,
    seconds: round(r.seconds),
    matches: r.matches,
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    baselineSeconds: round(r.baselineSeconds),
    ratio: round(r.seconds / r.baselineSeconds, 2),
    planted: r.planted,
    plantedFound: r.plantedFound,
    invalid: r.invalid,
  }),
);
