/** Transforms and EntityMapping: exact decimals, half-width, code maps, time zones, errors that name the field and column. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  halfWidth,
  mapCode,
  normalizeDecimal,
  readBoolean,
  readDateTime,
  readDecimal,
  roundDecimal,
  unmapCode,
  writeDateTime,
  writeDecimal,
  fixedDecimal,
  toDecimalString,
} from '../../connectors/mapping/transforms.js';
import { EntityMapping, filterToWhere } from '../../connectors/mapping/entity-mapping.js';
import { entitySourceSchema, type SourceConfig } from '../../config/schema.js';
import { MappingError } from '../../core/errors.js';
import { decodeKey, encodeKey } from '../../connectors/keys.js';
import { SourceSet } from '../../connectors/registry.js';
import { parseConfig } from '../../config/load.js';
import { shiftTs } from '../../connectors/capture/timestamp.js';
import { sameValue } from '../../connectors/knex-driver.js';
import { normalizeDecimal as coreNormalizeDecimal, sameValue as coreSameValue } from '../../model/values.js';
import { oaApprovalKey } from '../../demo/mappings.js';

const source = (extra: Partial<SourceConfig> = {}): SourceConfig => ({
  kind: 'erp',
  dialect: 'mssql',
  connection: { host: 'x' },
  timezone: 'Asia/Shanghai',
  readOnly: false,
  ...extra,
});

describe('decimals are exact strings', () => {
  it('normalises for comparison and rounds half-up (away from zero) on write', () => {
    expect(normalizeDecimal('1.50')).toBe('1.5');
    expect(normalizeDecimal('007.000')).toBe('7');
    expect(normalizeDecimal('-0.00')).toBe('0');
    expect(readDecimal('12345678901234.5678')).toBe('12345678901234.5678');
    expect(readDecimal(' 1,234.50 ')).toBe('1234.5');
    expect(writeDecimal('12345678901234.56785', 4)).toBe('12345678901234.5679');
    expect(roundDecimal('2.345', 2)).toBe('2.35');
    expect(roundDecimal('-2.345', 2)).toBe('-2.35');
    expect(roundDecimal('9.995', 2)).toBe('10');
    expect(roundDecimal('0.004', 2)).toBe('0');
    expect(fixedDecimal('1.5', 2)).toBe('1.50');
    expect(toDecimalString(1e21)).toBe('1000000000000000000000');
    expect(normalizeDecimal(toDecimalString(1.5e-7) ?? '')).toBe('0.00000015');
    expect(() => readDecimal('12abc')).toThrow(/decimal/);
  });

  it('round-trips any decimal text of up to 18 places without a float', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 }), (n, scale) => {
        const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
        const text = `${n < 0n ? '-' : ''}${scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits}`;
        expect(roundDecimal(text, scale)).toBe(normalizeDecimal(text));
        expect(readDecimal(writeDecimal(text, scale))).toBe(normalizeDecimal(text));
      }),
    );
  });
});

describe('every decimal a mapping produces is normalised (string equality is value equality)', () => {
  const cfg = entitySourceSchema.parse({
    table: 'rates',
    key: ['code'],
    write: ['insert', 'update'],
    fields: {
      code: 'code',
      creditLimit: { column: 'amount', scale: 2 },
      taxRate: { column: 'tax_code', map: { A: '0.130', B: 0.09, Z: '000.00', N: null } },
      discount: { column: 'discount', default: '0.00' },
      fee: { constant: '5.000' },
      total: { columns: ['total_int', 'total_frac'], separator: '.' },
      part: { split: { column: 'parts', separator: '|', index: 1 } },
    },
  });
  const decimals = { taxRate: { type: 'decimal' as const }, discount: { type: 'decimal' as const }, fee: { type: 'decimal' as const }, total: { type: 'decimal' as const }, part: { type: 'decimal' as const } };
  const m = new EntityMapping('Customer', 'fin', source(), cfg, decimals);
  const fields = ['creditLimit', 'taxRate', 'discount', 'fee', 'total', 'part'];

  it('from a column, a default, a code map, a constant, a concatenation and a split', () => {
    const rec = m.toRecord({ code: 'R1', amount: '1000.5000', tax_code: 'A', discount: null, total_int: '0012', total_frac: '500', parts: 'x|07.10|y' });
    expect(rec).toEqual({ code: 'R1', creditLimit: '1000.5', taxRate: '0.13', discount: '0', fee: '5', total: '12.5', part: '7.1' });
    expect(m.toRecord({ code: 'R2', amount: 10.25, tax_code: 'B', discount: '-0.000', total_int: 3, total_frac: 0, parts: '|1e2|' })).toMatchObject({
      creditLimit: '10.25',
      taxRate: '0.09',
      discount: '0',
      total: '3',
      part: '100',
    });
    expect(m.toRecord({ code: 'R3', amount: 7n, tax_code: 'Z', discount: ' 1,234.50 ', total_int: null, total_frac: null, parts: null })).toMatchObject({
      creditLimit: '7',
      taxRate: '0',
      discount: '1234.5',
      total: null,
      part: null,
    });
    expect(m.toRecord({ code: 'R4', amount: null, tax_code: 'N', discount: '2', total_int: '1', total_frac: null, parts: '' })).toMatchObject({ creditLimit: null, taxRate: null });
  });

  it('is a fixed point of the normal form model/values.ts compares with, for any spelling', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.constantFrom('A', 'B', 'Z'),
        (n, scale, lead, trail, tax) => {
          const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
          const body = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}${'0'.repeat(trail)}` : `${digits}${trail ? `.${'0'.repeat(trail)}` : ''}`;
          const text = `${n < 0n ? '-' : ''}${'0'.repeat(lead)}${body}`;
          const [int, frac = '0'] = text.replace('-', '').split('.');
          const rec = m.toRecord({ code: 'P', amount: text, tax_code: tax, discount: text, total_int: int, total_frac: frac, parts: `|${text}` });
          for (const f of fields) {
            const v = rec[f];
            if (typeof v !== 'string') throw new Error(`${f} is ${String(v)}`);
            expect(v).toBe(coreNormalizeDecimal(v));
          }
          // Equal values are equal strings: core's sameValue (String(a) === String(b)) holds.
          expect(coreSameValue(rec.discount, coreNormalizeDecimal(text))).toBe(true);
          expect(coreSameValue(rec.part, rec.discount)).toBe(true);
        },
      ),
    );
  });

  it('writes a mapped decimal back to its code by value', () => {
    expect(m.toRow({ taxRate: '0.13', discount: '1.50', creditLimit: '2.345' }, 'update')).toEqual({ tax_code: 'A', discount: '1.5', amount: '2.35' });
    expect(m.toRow({ taxRate: '0.0900' }, 'update')).toEqual({ tax_code: 'B' });
    expect(m.toRow({ taxRate: '0' }, 'update')).toEqual({ tax_code: 'Z' });
    expect(() => m.toRow({ taxRate: '0.5' }, 'update')).toThrow(/taxRate to fin\.rates\.tax_code/);
  });

  it('a decimal constant that is not a number names the field', () => {
    const bad = new EntityMapping('Customer', 'fin', source(), entitySourceSchema.parse({ table: 't', key: ['k'], fields: { creditLimit: { constant: 'n/a' } } }));
    expect(() => bad.toRecord({ k: 1 })).toThrow(/creditLimit .*not a decimal/);
  });
});

describe('refSource: a ref field holding another source\'s key', () => {
  const yaml = `
sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ':memory:' } }
  oa: { kind: oa, dialect: sqlite, connection: { filename: ':memory:' } }
entities:
  ApprovalRequest:
    sources:
      oa:
${oaApprovalKey('{ column: khbm, type: ref }')}
          title: requestname
`;
  const withRefSource = (refSource: string) => parseConfig(yaml.replace('customerId: { column: khbm, type: ref }', `customerId: { column: khbm, type: ref, refSource: ${refSource} }`));
  /** config/load.ts also rejects an undeclared source: set one past it, as a preset could. */
  const withUndeclared = (refSource: string) => {
    const loaded = withRefSource('erp');
    const oa = loaded.config.entities.ApprovalRequest?.sources.oa;
    if (oa) oa.fields.customerId = { column: 'khbm', type: 'ref', refSource };
    return loaded;
  };

  it('is exposed per field and defaults to the mapping\'s own source', async () => {
    const plain = SourceSet.open(parseConfig(yaml));
    const sources = SourceSet.open(withRefSource('erp'));
    try {
      expect(plain.mapping('ApprovalRequest', 'oa').refSourceOf('customerId')).toBe('oa');
      const m = sources.mapping('ApprovalRequest', 'oa');
      expect(m.refSourceOf('customerId')).toBe('erp');
      expect(m.refSourceOf('title')).toBe('oa');
      expect(m.refSourceOf('notMapped')).toBe('oa');
      expect(m.toRecord({ requestid: 5, khbm: 'C0001', requestname: 'x' }).customerId).toBe('C0001');
    } finally {
      await plain.destroy();
      await sources.destroy();
    }
  });

  it('must name a declared source, on a ref field', async () => {
    expect(() => withRefSource('crm')).toThrow(/refSource: unknown source "crm"/);
    const sources = SourceSet.open(withUndeclared('crm'));
    try {
      expect(() => sources.mapping('ApprovalRequest', 'oa')).toThrow(/entities\.ApprovalRequest\.sources\.oa\.fields\.customerId\.refSource names source "crm", which is not declared/);
    } finally {
      await sources.destroy();
    }
    const cfg = entitySourceSchema.parse({ table: 't', key: ['k'], fields: { title: 'k' } });
    expect(() => new EntityMapping('ApprovalRequest', 'oa', source(), { ...cfg, fields: { title: { column: 'k', refSource: 'erp' } } })).toThrow(MappingError);
    expect(() => new EntityMapping('ApprovalRequest', 'oa', source(), { ...cfg, fields: { customerId: { column: 'k', refSource: ' ' } } })).toThrow(/must name a source/);
  });
});

describe('text, codes, booleans', () => {
  it('turns full-width ASCII and the ideographic space into half width, leaving CJK alone', () => {
    expect(halfWidth('ＡＢＣ１２３！　（北京）')).toBe('ABC123! (北京)');
    expect(halfWidth('ｅｍａｉｌ＠ｅｘａｍｐｌｅ．ｃｏｍ')).toBe('email@example.com');
    // NFKC: the other compatibility characters fold as well (docs/ARCHITECTURE.md, libraries).
    expect(halfWidth('￥１００，ｶﾌﾞ')).toBe('¥100,カブ');
  });

  it('maps codes both ways', () => {
    const map = { '1': 'ACTIVE', '0': 'INACTIVE' };
    expect(mapCode(1, map)).toBe('ACTIVE');
    expect(mapCode('0 ', map)).toBe('INACTIVE');
    expect(unmapCode('INACTIVE', map)).toBe('0');
    expect(() => mapCode('9', map)).toThrow(/"9" is not in the map/);
    expect(() => unmapCode('BLOCKED', map)).toThrow(/no code maps to "BLOCKED"/);
  });

  it('reads booleans in the forms legacy systems use', () => {
    for (const t of [1, '1', 'Y', 'y', 't', 'true', true, Buffer.from([1])]) expect(readBoolean(t)).toBe(true);
    for (const f of [0, '0', 'N', 'f', 'false', false, Buffer.from([0])]) expect(readBoolean(f)).toBe(false);
    expect(() => readBoolean('maybe')).toThrow(/boolean/);
  });
});

describe('time zones', () => {
  it('reads a naive wall clock in the zone as the UTC instant, and writes it back', () => {
    expect(readDateTime('2024-03-01 08:30:00', 'Asia/Shanghai')).toBe('2024-03-01T00:30:00.000Z');
    expect(writeDateTime('2024-03-01T00:30:00.000Z', 'Asia/Shanghai')).toBe('2024-03-01 08:30:00');
    expect(readDateTime('2024-03-01 08:30:00.123', 'UTC')).toBe('2024-03-01T08:30:00.123Z');
    expect(readDateTime('2024-03-01 08:30:00\u00A0', 'Asia/Shanghai')).toBe('2024-03-01T00:30:00.000Z');
    expect(() => readDateTime('2024-03-01T08:30:00+08:00[Asia/Shanghai]', 'UTC')).toThrow('not a date-time: text follows its UTC offset');
    expect(readDateTime(new Date('2024-03-01T00:00:00Z'), 'Asia/Shanghai')).toBe('2024-03-01T00:00:00.000Z');
    expect(readDateTime('2024-03-01T08:30:00+08:00', 'UTC')).toBe('2024-03-01T00:30:00.000Z');
  });

  it('handles daylight-saving zones on both sides of the change', () => {
    expect(readDateTime('2024-07-01 12:00:00', 'Europe/Berlin')).toBe('2024-07-01T10:00:00.000Z');
    expect(readDateTime('2024-01-15 12:00:00', 'Europe/Berlin')).toBe('2024-01-15T11:00:00.000Z');
    expect(writeDateTime('2024-03-31T01:30:00.000Z', 'Europe/Berlin')).toBe('2024-03-31 03:30:00');
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }), (ms) => {
        const iso = new Date(ms).toISOString();
        for (const zone of ['Asia/Shanghai', 'UTC']) expect(readDateTime(writeDateTime(iso, zone), zone)).toBe(iso);
        // In the autumn overlap a wall clock names two instants: it reads as the earlier one.
        const ny = Date.parse(readDateTime(writeDateTime(iso, 'America/New_York'), 'America/New_York'));
        expect([0, -3_600_000]).toContain(ny - ms);
      }),
      { numRuns: 200 },
    );
  });

  it('moves capture cursors keeping the column text shape', () => {
    expect(shiftTs('2024-01-01 10:00:00', -300)).toBe('2024-01-01 09:55:00');
    expect(shiftTs('2024-01-01 00:01:00.123456', -120)).toBe('2023-12-31 23:59:00.123000');
    expect(shiftTs('2024-01-01T10:00:00.000Z', -60)).toBe('2024-01-01T09:59:00.000Z');
    expect(shiftTs(1700000000, -10)).toBe(1699999990);
  });
});

describe('unchanged-row detection compares driver-independent forms', () => {
  it('treats equal decimals, booleans and wall clocks in different spellings as equal', () => {
    expect(sameValue('1.50', 1.5)).toBe(true);
    expect(sameValue(true, 1)).toBe(true);
    expect(sameValue(null, undefined)).toBe(true);
    expect(sameValue('2024-03-01 08:30:00.000', '2024-03-01 08:30:00')).toBe(true);
    expect(sameValue('2024-03-01 08:30:01', '2024-03-01 08:30:00')).toBe(false);
    expect(sameValue('C1', 'c1')).toBe(false);
    expect(sameValue(0, null)).toBe(false);
  });
});

describe('keys', () => {
  it('encodes single keys as text and composite keys as JSON', () => {
    expect(encodeKey(['C0001'])).toBe('C0001');
    expect(encodeKey([42])).toBe('42');
    expect(encodeKey(['SO1', 3])).toBe('["SO1",3]');
    expect(decodeKey('["SO1",3]', 2)).toEqual(['SO1', 3]);
    expect(decodeKey('C0001')).toEqual(['C0001']);
    expect(() => decodeKey('C0001', 2)).toThrow();
  });
});

describe('EntityMapping', () => {
  const u8 = entitySourceSchema.parse({
    table: 'Customer',
    key: ['cCusCode'],
    write: ['update'],
    filter: { bDisabled: 0, cCusType: { in: ['A', 'B'] } },
    changes: { strategy: 'timestamp', column: 'dModifyDate' },
    fields: {
      code: { column: 'cCusCode', trim: true, case: 'upper' },
      name: { column: 'cCusName', halfWidth: true, trim: true },
      status: { column: 'iStatus', map: { '1': 'ACTIVE', '0': 'INACTIVE' } },
      creditLimit: 'iCusCreLine',
      updatedAt: { column: 'dModifyDate', write: false },
      address: { columns: ['cProvince', 'cCity', 'cStreet'], separator: ' ' },
      city: { split: { column: 'cRegion', separator: '/', index: 1 } },
      industry: { constant: 'manufacturing' },
      ownerId: { column: 'cPerson', default: 'unassigned' },
      vip: { column: 'bVip' },
    },
  });
  const m = new EntityMapping('Customer', 'u8', source(), u8, { vip: { type: 'boolean' } });
  const row = {
    cCusCode: ' c001 ',
    cCusName: '　北京ＡＢＣ科技有限公司 ',
    iStatus: 1,
    iCusCreLine: '1000000.50',
    dModifyDate: '2024-03-01 08:30:00.000',
    cProvince: '北京市',
    cCity: '朝阳区',
    cStreet: null,
    cRegion: '华北/北京/朝阳',
    cPerson: null,
    bVip: 'Y',
    bDisabled: 0,
  };

  it('describes what to read: table, key, columns, filter, capture', () => {
    expect(m.table).toEqual({ table: 'Customer' });
    expect(m.key).toEqual(['cCusCode']);
    expect(m.columns).toEqual(['cCusCode', 'cCusName', 'iStatus', 'iCusCreLine', 'dModifyDate', 'cProvince', 'cCity', 'cStreet', 'cRegion', 'cPerson', 'bVip']);
    expect(m.filter).toEqual({ and: [{ column: 'bDisabled', op: 'eq', value: 0 }, { column: 'cCusType', op: 'in', value: ['A', 'B'] }] });
    expect(m.capture).toMatchObject({ table: 'Customer', strategy: 'timestamp', column: 'dModifyDate', lookBackSeconds: 300, key: ['cCusCode'] });
  });

  it('maps a row to the canonical record', () => {
    expect(m.toRecord(row)).toEqual({
      code: 'C001',
      name: '北京ABC科技有限公司',
      status: 'ACTIVE',
      creditLimit: '1000000.5',
      updatedAt: '2024-03-01T00:30:00.000Z',
      address: '北京市 朝阳区',
      city: '北京',
      industry: 'manufacturing',
      ownerId: 'unassigned',
      vip: true,
    });
    expect(m.sourceKey(row)).toBe(' c001 ');
    expect(m.keyRow('C001')).toEqual({ cCusCode: 'C001' });
  });

  it('maps a record back to columns: only writable fields, with reverse transforms', () => {
    expect(m.writableFields()).toEqual(['code', 'name', 'status', 'creditLimit', 'address', 'ownerId', 'vip']);
    expect(m.toRow({ status: 'INACTIVE', creditLimit: '12.345', address: '上海市 浦东新区 世纪大道1号', updatedAt: 'x', city: 'y', vip: false }, 'update')).toEqual({
      iStatus: '0',
      iCusCreLine: '12.35',
      cProvince: '上海市',
      cCity: '浦东新区',
      cStreet: '世纪大道1号',
      bVip: 0,
    });
    expect(m.fieldColumn('status')?.column).toBe('iStatus');
    expect(m.fieldColumn('status')?.toSource('ACTIVE')).toBe('1');
    expect(m.fieldColumn('address')).toBeNull();
    expect(m.fieldColumn('industry')).toBeNull();
  });

  it('refuses writes the mapping does not allow, and every write on a read-only source', () => {
    expect(m.canWrite('update')).toBe(true);
    expect(m.canWrite('insert')).toBe(false);
    expect(() => m.toRow({ name: 'x' }, 'insert')).toThrow(MappingError);
    try {
      m.toRow({ name: 'x' }, 'insert');
    } catch (e) {
      expect((e as MappingError).code).toBe('WRITE_FORBIDDEN');
      expect((e as MappingError).message).toContain('entities.Customer.sources.u8.write');
    }
    const ro = new EntityMapping('Customer', 'u8', source({ readOnly: true }), u8);
    expect(ro.canWrite('update')).toBe(false);
    expect(() => ro.toRow({ name: 'x' }, 'update')).toThrow(/read-only/);
  });

  it('names source, table, key, field, column and the bad value when a transform fails', () => {
    let err: MappingError | undefined;
    try {
      m.toRecord({ ...row, iCusCreLine: '1,0x0' });
    } catch (e) {
      err = e as MappingError;
    }
    expect(err).toBeInstanceOf(MappingError);
    expect(err?.code).toBe('TRANSFORM_FAILED');
    expect(err?.context).toMatchObject({ source: 'u8', table: 'Customer', key: ' c001 ', field: 'creditLimit', column: 'iCusCreLine', value: '"1,0x0"' });
    expect(err?.message).toContain('Customer.creditLimit from u8.Customer.iCusCreLine (key  c001 )');
    expect(() => m.toRecord({ ...row, iStatus: 7 })).toThrow(/status from u8\.Customer\.iStatus .*"7" is not in the map/);
    expect(() => m.toRow({ status: 'BLOCKED' }, 'update')).toThrow(/status to u8\.Customer\.iStatus/);
  });

  it('leaves identity keys to the database and builds soft-delete rows', () => {
    const cfg = entitySourceSchema.parse({
      table: 'tickets',
      key: ['id'],
      identity: true,
      write: ['insert', 'update', 'delete'],
      delete: { mode: 'soft', column: 'is_deleted', value: 1 },
      fields: { code: { column: 'id', type: 'string' }, name: 'title' },
    });
    const t = new EntityMapping('Contact', 'crm', source(), cfg);
    expect(t.writableFields()).toEqual(['name']);
    expect(t.toRow({ code: '5', name: 'x' }, 'insert')).toEqual({ title: 'x' });
    expect(t.deleteMode).toBe('soft');
    expect(t.softDeleteRow()).toEqual({ is_deleted: 1 });
  });

  it('turns config filters into Where trees', () => {
    expect(filterToWhere({ deleted: 0 })).toEqual({ column: 'deleted', op: 'eq', value: 0 });
    expect(filterToWhere({ x: null })).toEqual({ column: 'x', op: 'isNull', value: true });
    expect(filterToWhere({ s: { ne: 'X', isNull: false } })).toEqual({ and: [{ column: 's', op: 'ne', value: 'X' }, { column: 's', op: 'isNull', value: false }] });
    expect(filterToWhere(undefined)).toBeUndefined();
  });
});

describe('plain column fields', () => {
  it('read the same values and errors as the general path (a no-op text option forces it), for every type', () => {
    const types = ['string', 'text', 'enum', 'ref', 'int', 'decimal', 'boolean', 'date', 'datetime'] as const;
    const fields = (general: boolean) =>
      Object.fromEntries(types.map((t) => [`f_${t}`, { column: `c_${t}`, type: t, ...(general ? { trim: false } : {}) }]));
    const plain = new EntityMapping('Widget', 'erp', source(), entitySourceSchema.parse({ table: 't', key: ['k'], fields: fields(false) }));
    const general = new EntityMapping('Widget', 'erp', source(), entitySourceSchema.parse({ table: 't', key: ['k'], fields: fields(true) }));
    const raws: unknown[] = [null, undefined, '', ' ', '0', '1', '12', '-3', '1.50', ' 1,234.50 ', '12abc', 'true', 'no', '是', 'ACTIVE', '中文',
      '2024-02-29', '2023-02-29', '2024-02-29 08:00:00', '2024-02-29T08:00:00Z', '2024-02-29 08:00:00.123456', 0, 1, 42, -7, 1.5, 2 ** 60, 12345678901234567890n,
      true, false, new Date(Date.UTC(2024, 1, 29, 8)), new Date(Number.NaN), Buffer.from('ab')];
    const outcome = (m: EntityMapping, field: string, row: Record<string, unknown>) => {
      try {
        return { value: m.toRecord(row)[field] };
      } catch (err) {
        return { error: (err as Error).message };
      }
    };
    const readers = new Map(plain.fieldReaders().map((r) => [r.field, r.read]));
    for (const t of types) {
      for (const raw of raws) {
        const row = { k: '1', [`c_${t}`]: raw };
        const single = new EntityMapping('Widget', 'erp', source(), entitySourceSchema.parse({ table: 't', key: ['k'], fields: { [`f_${t}`]: fields(false)[`f_${t}`] } }));
        const singleGeneral = new EntityMapping('Widget', 'erp', source(), entitySourceSchema.parse({ table: 't', key: ['k'], fields: { [`f_${t}`]: fields(true)[`f_${t}`] } }));
        const expected = outcome(singleGeneral, `f_${t}`, row);
        expect(outcome(single, `f_${t}`, row), `${t} ${String(raw)}`).toEqual(expected);
        let direct: { value?: unknown; error?: string };
        try {
          direct = { value: (readers.get(`f_${t}`) as (r: Record<string, unknown>) => unknown)(row) };
        } catch {
          direct = { error: expected.error };
        }
        expect(direct, `${t} ${String(raw)} (reader)`).toEqual(expected);
      }
    }
    expect(general.fields).toEqual(plain.fields);
  });
});
