import { describe, expect, it } from 'vitest';
import {
  normalizeCompanyName,
  normalizeEmail,
  normalizePhone,
} from '../../identity/index.js';
import { halfWidth } from '../../model/index.js';

describe('halfWidth (NFKC)', () => {
  it.each([
    ['ＡＢＣ１２３', 'ABC123'],
    ['（北京）', '(北京)'],
    ['\u3000华为\u3000', ' 华为 '],
    ['！～', '!~'],
    ['华为（）【】', '华为()【】'], // 【】 have no compatibility form: left alone
    ['华为技术有限公司。、', '华为技术有限公司。、'], // ideographs and CJK punctuation unchanged
    // Beyond full-width ASCII, the other compatibility characters fold too:
    ['￥１００', '¥100'], // full-width currency sign
    ['ｶﾌﾞｼｷｶﾞｲｼｬ', 'カブシキガイシャ'], // half-width katakana → full-width
    ['\uF9DC基', '隆基'], // CJK compatibility ideograph → unified
    ['①号楼²', '1号楼2'],
    ['A\u00A0B', 'A B'], // no-break space
  ])('%s → %s', (input, expected) => {
    expect(halfWidth(input)).toBe(expected);
  });
});

describe('normalizeCompanyName', () => {
  it('reads a compatibility ideograph and a full-width currency sign as the plain characters (NFKC)', () => {
    expect(normalizeCompanyName('\uF9DC基绿能科技股份有限公司').normalized).toBe(normalizeCompanyName('隆基绿能科技股份有限公司').normalized);
    expect(normalizeCompanyName('ｶﾌﾞｼｷｶﾞｲｼｬ东京贸易有限公司').normalized).toBe(normalizeCompanyName('カブシキガイシャ东京贸易有限公司').normalized);
  });

  const huawei = { normalized: '北京华为技术', core: '华为技术', region: '北京', suffix: '有限公司' };
  /** What a name with no region reads as: its core, normalised, and the legal form. */
  const noRegion = (core: string, suffix: string) => ({ normalized: core, core, suffix });

  it.each([
    '北京华为技术有限公司',
    '华为技术（北京）有限公司',
    '北京\u3000华为技术有限公司',
    '北京市华为技术有限公司',
    '华为技术(北京)有限公司',
    '华为技术【北京】有限公司',
    ' 北京 华为技术 有限公司 ',
  ])('%s → core 华为技术, region 北京', (name) => {
    expect(normalizeCompanyName(name)).toEqual(huawei);
  });

  it('folds traditional characters onto simplified ones', () => {
    expect(normalizeCompanyName('華為技術有限公司')).toEqual(noRegion('华为技术', '有限公司'));
    expect(normalizeCompanyName('廣東東莞實業發展有限公司').core).toBe('实业发展');
  });

  it('strips the longest legal-form suffix, not a shorter one inside it', () => {
    expect(normalizeCompanyName('上海浦东发展银行股份有限公司')).toMatchObject({ core: '浦东发展银行', region: '上海', suffix: '股份有限公司' });
    expect(normalizeCompanyName('小米科技有限责任公司')).toMatchObject({ core: '小米科技', suffix: '有限责任公司' });
    expect(normalizeCompanyName('中国石油天然气集团有限公司')).toMatchObject({ core: '中国石油天然气', suffix: '集团有限公司' });
    // "(集团)" is not a region: its content is kept and then stripped as part of the legal form
    expect(normalizeCompanyName('海尔（集团）有限公司')).toMatchObject({ core: '海尔', suffix: '集团有限公司' });
  });

  it('strips English legal forms as whole words only', () => {
    expect(normalizeCompanyName('Huawei Technologies Co., Ltd.')).toEqual(noRegion('huaweitechnologies', 'coltd'));
    expect(normalizeCompanyName('ＡＣＭＥ Corporation').core).toBe('acme');
    expect(normalizeCompanyName('Acme Corp.').core).toBe('acme');
    expect(normalizeCompanyName('Costco').core).toBe('costco');
    expect(normalizeCompanyName('Tesla Inc').core).toBe('tesla');
  });

  it('recognises long official region forms and province + city prefixes', () => {
    expect(normalizeCompanyName('广西壮族自治区玉林制药有限责任公司')).toMatchObject({ core: '玉林制药', region: '广西' });
    expect(normalizeCompanyName('广东省深圳市华为技术有限公司')).toMatchObject({ core: '华为技术', region: '深圳' });
    expect(normalizeCompanyName('杭州阿里巴巴网络技术有限公司')).toMatchObject({ core: '阿里巴巴网络技术', region: '杭州' });
  });

  it('keeps a region in the core when nothing distinctive would remain', () => {
    expect(normalizeCompanyName('北京有限公司')).toEqual({ normalized: '北京', core: '北京', suffix: '有限公司' });
  });

  it('does not read 中国 as a region and keeps non-region words', () => {
    expect(normalizeCompanyName('中国银行股份有限公司')).toEqual(noRegion('中国银行', '股份有限公司'));
    expect(normalizeCompanyName('上海银行大厦物业').core).toBe('银行大厦物业');
  });
});

describe('normalizePhone', () => {
  it.each([
    ['(010) 8888-6666 转 123', '01088886666'],
    ['+86 138-0013-8000', '13800138000'],
    ['0086 13800138000', '13800138000'],
    ['8613800138000', '13800138000'],
    ['138 0013 8000', '13800138000'],
    ['+86 10 8888 6666', '01088886666'],
    ['(+86) 21 5555 1234', '02155551234'],
    ['+86 (0)10 8888 6666', '01088886666'],
    ['010-88886666-123', '01088886666'],
    ['0755-2678-0808 ext. 12', '075526780808'],
    ['0571-88886666#8001', '057188886666'],
    ['13800138000 x12', '13800138000'],
    ['Fax: 010-88886666', '01088886666'],
    ['电话：０２１－５５５５１２３４', '02155551234'],
    ['0571-8888 6666 / 13800138000', '057188886666'],
    ['400-810-8888', '4008108888'],
    ['无', ''],
  ])('%s → %s', (input, expected) => {
    expect(normalizePhone(input)).toBe(expected);
  });
});

describe('normalizeEmail', () => {
  it.each([
    [' Zhang.San@Example.COM ', 'zhang.san@example.com'],
    ['zhangsan+crm@huawei.com', 'zhangsan@huawei.com'],
    ['ＬＩＳＩ＠ＱＱ．ＣＯＭ', 'lisi@qq.com'],
    ['mailto:Sales+2024@Xiaomi.com', 'sales@xiaomi.com'],
    ['not-an-email', 'not-an-email'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeEmail(input)).toBe(expected);
  });
});
