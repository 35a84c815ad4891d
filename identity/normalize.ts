/**
 * Normalisation of the values used to recognise one customer across systems: company names,
 * phone numbers, e-mail addresses. Pure functions, no I/O.
 */

import { halfWidth } from '../model/text.js';

// ---------------------------------------------------------------------------------------------
// Company names
// ---------------------------------------------------------------------------------------------

/**
 * Traditional → simplified for characters common in company and place names. Deliberately small:
 * only characters whose simplified form is unambiguous (no 乾/著/餘/於), because a wrong mapping
 * would merge names that are really different.
 */
const T2S: Record<string, string> = {
  國: '国', 華: '华', 為: '为', 術: '术', 電: '电', 東: '东', 際: '际', 貿: '贸', 實: '实',
  業: '业', 發: '发', 開: '开', 廣: '广', 門: '门', 灣: '湾', 龍: '龙', 豐: '丰', 興: '兴',
  達: '达', 聯: '联', 銀: '银', 訊: '讯', 網: '网', 絡: '络', 學: '学', 醫: '医', 藥: '药',
  車: '车', 團: '团', 務: '务', 資: '资', 產: '产', 廠: '厂', 區: '区', 貨: '货', 運: '运',
  輸: '输', 機: '机', 氣: '气', 紡: '纺', 織: '织', 裝: '装', 飾: '饰', 設: '设', 計: '计',
  證: '证', 險: '险', 農: '农', 總: '总', 傳: '传', 視: '视', 報: '报', 書: '书', 鐵: '铁',
  鋼: '钢', 礦: '矿', 環: '环', 經: '经', 濟: '济', 營: '营', 銷: '销', 億: '亿', 萬: '万',
  數: '数', 碼: '码', 軟: '软', 體: '体', 陽: '阳', 蘇: '苏', 漢: '汉', 慶: '庆', 遼: '辽',
  寧: '宁', 陝: '陕', 貴: '贵', 雲: '云', 臺: '台', 滬: '沪', 閩: '闽', 粵: '粤', 廈: '厦',
  長: '长', 鄭: '郑', 瀋: '沈', 連: '连', 島: '岛', 錫: '锡', 溫: '温', 寶: '宝', 風: '风',
  創: '创', 優: '优', 鳳: '凤', 動: '动', 壽: '寿', 遠: '远', 順: '顺', 飛: '飞', 鴻: '鸿',
  園: '园', 場: '场', 協: '协', 會: '会', 稅: '税', 財: '财', 匯: '汇', 貸: '贷', 價: '价',
  買: '买', 賣: '卖', 倉: '仓', 儲: '储', 紙: '纸', 線: '线', 纜: '缆', 燈: '灯', 熱: '热',
  鋁: '铝', 銅: '铜', 廳: '厅', 館: '馆', 蘭: '兰', 圖: '图', 橋: '桥', 濱: '滨', 瀾: '澜',
  嶺: '岭', 陸: '陆', 齊: '齐', 魯: '鲁', 贛: '赣', 韓: '韩', 義: '义', 麗: '丽', 紅: '红',
  綠: '绿', 藍: '蓝', 黃: '黄', 鳥: '鸟', 馬: '马', 魚: '鱼', 鮮: '鲜', 飲: '饮', 廚: '厨',
  衛: '卫', 潔: '洁', 競: '竞', 職: '职', 測: '测', 檢: '检', 驗: '验', 標: '标', 準: '准',
  質: '质',
};

function toSimplified(s: string): string {
  let out = '';
  for (const ch of s) out += T2S[ch] ?? ch;
  return out;
}

/** Provinces, municipalities, autonomous regions and SARs, in their short form. */
const PROVINCES: readonly string[] = [
  '北京', '天津', '上海', '重庆', '河北', '山西', '辽宁', '吉林', '黑龙江', '江苏', '浙江', '安徽',
  '福建', '江西', '山东', '河南', '湖北', '湖南', '广东', '海南', '四川', '贵州', '云南', '陕西',
  '甘肃', '青海', '台湾', '内蒙古', '广西', '西藏', '宁夏', '新疆', '香港', '澳门',
];

/** Provincial capitals and other large cities. */
const CITIES: readonly string[] = [
  '石家庄', '太原', '沈阳', '大连', '长春', '哈尔滨', '南京', '苏州', '无锡', '常州', '南通',
  '杭州', '宁波', '温州', '绍兴', '嘉兴', '金华', '台州', '合肥', '福州', '厦门', '泉州', '南昌',
  '济南', '青岛', '烟台', '潍坊', '郑州', '洛阳', '武汉', '长沙', '广州', '深圳', '珠海', '佛山',
  '东莞', '中山', '惠州', '汕头', '海口', '三亚', '南宁', '成都', '贵阳', '昆明', '西安', '兰州',
  '西宁', '银川', '乌鲁木齐', '拉萨', '呼和浩特', '包头', '唐山', '保定', '徐州', '扬州', '芜湖',
  '宜昌', '襄阳', '株洲', '绵阳', '桂林', '柳州',
];
const CITY_SET: ReadonlySet<string> = new Set(CITIES);

/** Long official forms of provinces, folded onto the short form before the generic 省/市 rule. */
const REGION_LONG_FORMS: ReadonlyArray<readonly [string, string]> = [
  ['内蒙古自治区', '内蒙古'], ['广西壮族自治区', '广西'], ['西藏自治区', '西藏'],
  ['宁夏回族自治区', '宁夏'], ['新疆维吾尔自治区', '新疆'], ['香港特别行政区', '香港'],
  ['澳门特别行政区', '澳门'],
];

// Candidate spellings ("北京市", "北京", "广东省", ...) → short region, longest first so that
// "北京市" wins over "北京". Prefixes are looked up by first character to keep this cheap.
const REGION_SPELLINGS = new Map<string, Array<readonly [string, string]>>();
{
  const all: Array<readonly [string, string]> = [...REGION_LONG_FORMS];
  for (const r of [...PROVINCES, ...CITIES]) all.push([r + '市', r], [r + '省', r], [r, r]);
  all.sort((x, y) => y[0].length - x[0].length);
  for (const entry of all) {
    const first = entry[0][0];
    const list = REGION_SPELLINGS.get(first) ?? [];
    list.push(entry);
    REGION_SPELLINGS.set(first, list);
  }
}

function regionPrefix(s: string): readonly [string, string] | undefined {
  const list = REGION_SPELLINGS.get(s[0]);
  if (list) for (const entry of list) if (s.startsWith(entry[0])) return entry;
  return undefined;
}

/** A whole bracket content that names a region, e.g. "北京", "北京市", "广西壮族自治区". */
function regionOf(s: string): string | undefined {
  const hit = regionPrefix(s);
  return hit && hit[0] === s ? hit[1] : undefined;
}

/** Chinese legal-form suffixes, longest first so 股份有限公司 is not cut as 有限公司. */
const CJK_SUFFIXES: readonly string[] = [
  '集团股份有限公司', '股份有限公司', '有限责任公司', '集团有限公司', '有限公司',
  '股份公司', '总公司', '集团', '公司',
].sort((a, b) => b.length - a.length);

/**
 * English legal-form words. Removed as whole trailing words only (checked before spaces are
 * dropped), otherwise "co" would eat the end of "Costco".
 */
const ASCII_SUFFIX_RE =
  /([^a-z0-9])(co|company|ltd|limited|inc|incorporated|corp|corporation|llc|plc|gmbh|group)$/;

const BRACKETS_RE = /[（【\[［〔{｛]/g;
const CLOSE_BRACKETS_RE = /[）】\]］〕}｝]/g;
// Whitespace, punctuation and symbols (incl. the Chinese ones such as ·、，。)
const NOISE_RE = /[\s\p{P}\p{S}]+/gu;
// The run must start after a character that is not noise: tried from inside a run, it would
// rescan the run once per position (quadratic on a long run that does not end the text).
const TRAILING_NOISE_RE = /(?<![\s\p{P}\p{S}])[\s\p{P}\p{S}]+$/u;

export interface NormalizedName {
  /** Region (if any) followed by core: the canonical key of the full name without legal form. */
  normalized: string;
  /** The distinctive part of the name: no region, no legal form, no spaces or punctuation. */
  core: string;
  /** Short region name such as 北京, from a prefix ("北京市…") or a bracket ("…（北京）…"). */
  region?: string;
  /** The legal-form words removed, in normalised spelling (e.g. 有限公司, coltd). */
  suffix?: string;
}

export function normalizeCompanyName(name: string): NormalizedName {
  let s = toSimplified(halfWidth(name).toLowerCase())
    .replace(BRACKETS_RE, '(')
    .replace(CLOSE_BRACKETS_RE, ')');

  // A bracket that contains only a region ("华为技术（北京）有限公司") names the region; other
  // brackets ("（集团）") are kept as plain text so their content still counts.
  let region: string | undefined;
  s = s.replace(/\(([^()]*)\)/g, (_whole, inner: string) => {
    const r = regionOf(inner.replace(NOISE_RE, ''));
    if (r !== undefined && region === undefined) {
      region = r;
      return ' ';
    }
    return r !== undefined ? ' ' : ` ${inner} `;
  });

  // Strip legal forms from the end, repeatedly ("集团 有限公司", "Co., Ltd.").
  const removed: string[] = [];
  for (;;) {
    s = s.replace(TRAILING_NOISE_RE, '');
    const ascii = ASCII_SUFFIX_RE.exec(s);
    if (ascii) {
      removed.unshift(ascii[2]);
      s = s.slice(0, ascii.index + ascii[1].length);
      continue;
    }
    const cjk = CJK_SUFFIXES.find((suf) => s.endsWith(suf) && s.length > suf.length);
    if (cjk) {
      removed.unshift(cjk);
      s = s.slice(0, -cjk.length);
      continue;
    }
    break;
  }

  let core = s.replace(NOISE_RE, '');

  // Region as a prefix ("北京华为技术…", "广东省深圳市…": province then city, the city is kept as
  // the more specific). Never strip so much that fewer than 2 distinctive characters remain, and
  // never drop a prefix that contradicts the bracketed region.
  let prefixRegion: string | undefined;
  for (;;) {
    const p = regionPrefix(core);
    if (!p || core.length - p[0].length < 2) break;
    if (region !== undefined && p[1] !== region) break;
    if (prefixRegion !== undefined && !(CITY_SET.has(p[1]) && !CITY_SET.has(prefixRegion))) break;
    prefixRegion = p[1];
    core = core.slice(p[0].length);
  }
  region ??= prefixRegion;

  const result: NormalizedName = { normalized: (region ?? '') + core, core };
  if (region !== undefined) result.region = region;
  if (removed.length > 0) result.suffix = removed.join('');
  return result;
}

// ---------------------------------------------------------------------------------------------
// Phones and e-mail
// ---------------------------------------------------------------------------------------------

// Everything after an extension marker is the extension: 转 / 轉 / 分机 / ext / x / #. A bare "x"
// counts only between digits/space and digits, so the x of "Fax:" is not taken for one.
// `s`: the rest runs to the end of the text whatever it holds, so the first marker always matches
// (without it a line break after many markers rescans the text from each one).
const EXTENSION_RE = /(?:转|轉|分机|分機|ext\.?|extension|#|(?<=[\d\s])x(?=\s*\d)).*$/is;
// Several numbers in one field ("010-8888 6666 / 138…"): the first one is the main number.
const LIST_SEPARATOR_RE = /[\/,;、]/;

/**
 * Digits-only canonical phone: country code +86/0086 removed, extension removed, landline area
 * code kept with its leading 0 ("(010) 8888-6666 转 123" → "01088886666",
 * "+86 138-0013-8000" → "13800138000"). Returns "" when there are no digits.
 */
export function normalizePhone(s: string): string {
  const text = halfWidth(s).split(LIST_SEPARATOR_RE)[0].trim().replace(EXTENSION_RE, '');
  const groups = text.match(/\d+/g);
  if (!groups) return '';

  let digits = groups.join('');
  let international = false;
  const plus86 = /^\D*\+\s*86/.test(text); // "+86 …", "(+86) …"
  if (plus86 || digits.startsWith('0086')) {
    digits = digits.slice(plus86 ? 2 : 4);
    international = true;
  } else if (digits.length === 13 && /^861[3-9]/.test(digits)) {
    // "8613800138000": a mobile number written with the country code but without the "+".
    digits = digits.slice(2);
    international = true;
  }
  // Internationally written landlines drop the trunk 0 ("+86 10 8888 6666"); put it back so both
  // spellings give the same key. "+86 (0)10 …" already has it.
  const mobile = digits.length === 11 && digits.startsWith('1');
  if (international && !mobile && !digits.startsWith('0')) digits = '0' + digits;

  // "010-8888-6666-123": a landline is at most 12 digits with its area code (0xxx + 8), so a short
  // trailing group that makes it longer is an extension.
  const last = groups[groups.length - 1];
  if (digits.startsWith('0') && digits.length > 12 && groups.length > 1 && last.length <= 5) {
    const without = digits.slice(0, -last.length);
    if (without.length >= 10) digits = without;
  }
  return digits;
}

/** Lower case, trimmed, full-width folded, "+tag" removed from the local part. */
export function normalizeEmail(s: string): string {
  const e = halfWidth(s).trim().toLowerCase().replace(/^mailto:/, '');
  const at = e.lastIndexOf('@');
  if (at < 0) return e;
  const local = e.slice(0, at);
  const plus = local.indexOf('+');
  return (plus >= 0 ? local.slice(0, plus) : local) + e.slice(at);
}
