import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CREDIT_CODE_CHARSET,
  computeCheckDigit,
  makeCreditCode,
  validateCreditCode,
} from '../../identity/index.js';

// Published codes of real companies (national enterprise credit information publicity system).
const HUAWEI = '914403001922038216'; // 华为技术有限公司, 深圳
const BAIDU = '91110000802100433B'; // 北京百度网讯科技有限公司
const XIAOMI = '91110108551385082Q'; // 小米科技有限责任公司

describe('validateCreditCode', () => {
  it.each([HUAWEI, BAIDU, XIAOMI])('accepts the real code %s', (code) => {
    expect(validateCreditCode(code)).toEqual({ ok: true, code });
  });

  it('normalises full-width characters, lower case and surrounding spaces', () => {
    expect(validateCreditCode('\u3000９１１１０１０８５５１３８５０８２ｑ ')).toEqual({ ok: true, code: XIAOMI });
    expect(validateCreditCode(' 91110000802100433b')).toEqual({ ok: true, code: BAIDU });
  });

  it('rejects a wrong length and says which length it saw', () => {
    const short = validateCreditCode(HUAWEI.slice(0, 17));
    expect(short.ok).toBe(false);
    expect(!short.ok && short.reason).toMatch(/^wrong length 17\b/);
    const long = validateCreditCode(HUAWEI + '0');
    expect(!long.ok && long.reason).toMatch(/^wrong length 19\b/);
  });

  it('rejects characters outside the charset, naming the character and its 1-based position', () => {
    const withI = validateCreditCode('91440300192203821I');
    expect(withI).toEqual({
      ok: false,
      reason: "invalid character 'I' at position 18 (the letters I, O, Z, S and V are never used)",
    });
    const withO = validateCreditCode('9144O3001922038216');
    expect(!withO.ok && withO.reason).toMatch(/^invalid character 'O' at position 5 /);
    const withHan = validateCreditCode('91440300192203821号');
    expect(!withHan.ok && withHan.reason).toBe("invalid character '号' at position 18");
  });

  it('rejects a wrong check digit and says which one was expected', () => {
    expect(validateCreditCode('914403001922038217')).toEqual({
      ok: false,
      reason: "check digit should be '6' but is '7'",
    });
    expect(validateCreditCode('91110000802100433C')).toEqual({
      ok: false,
      reason: "check digit should be 'B' but is 'C'",
    });
  });

  it('detects every single-character substitution (31 is prime, all weights are non-zero)', () => {
    const seedChar = fc.constantFrom(...CREDIT_CODE_CHARSET);
    fc.assert(
      fc.property(
        fc.array(seedChar, { minLength: 17, maxLength: 17 }),
        fc.nat(17),
        fc.nat(29),
        (chars, pos, shift) => {
          const code = makeCreditCode(chars.join(''));
          expect(validateCreditCode(code).ok).toBe(true);
          const old = CREDIT_CODE_CHARSET.indexOf(code[pos]);
          const replacement = CREDIT_CODE_CHARSET[(old + 1 + shift) % 31];
          const broken = code.slice(0, pos) + replacement + code.slice(pos + 1);
          expect(validateCreditCode(broken).ok).toBe(false);
        },
      ),
      { numRuns: 500, seed: 42 },
    );
  });
});

describe('computeCheckDigit / makeCreditCode', () => {
  it('computes the check digit of real codes', () => {
    expect(computeCheckDigit(HUAWEI.slice(0, 17))).toBe('6');
    expect(computeCheckDigit(BAIDU.slice(0, 17))).toBe('B');
    expect(computeCheckDigit(XIAOMI.slice(0, 17))).toBe('Q');
  });

  it('maps a remainder of 0 (31 - 0 = 31) to the character 0', () => {
    expect(computeCheckDigit('0'.repeat(17))).toBe('0');
  });

  it('makes valid codes and refuses seeds that are not 17 charset characters', () => {
    expect(makeCreditCode('91310000MA1FL0000')).toMatch(/^91310000MA1FL0000[0-9A-Y]$/);
    expect(validateCreditCode(makeCreditCode('91310000MA1FL0000')).ok).toBe(true);
    expect(() => makeCreditCode('9131000')).toThrow(RangeError);
    expect(() => makeCreditCode('91310000MA1FL000I')).toThrow(/invalid character 'I' at position 17/);
  });
});
