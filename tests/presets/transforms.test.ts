/**
 * The two mapping forms the vendor presets need and a plain column map cannot express: a value
 * chosen by which columns are filled (`cases`, e.g. an order's status from its approver and
 * closer) and a sign taken from another column (`negate`, e.g. credit-side vouchers).
 */
import { describe, expect, it } from 'vitest';
import { EntityMapping } from '../../connectors/mapping/entity-mapping.js';
import { entitySourceSchema, sourceSchema } from '../../config/schema.js';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';

const source = sourceSchema.parse({ kind: 'erp', dialect: 'sqlite', connection: { filename: ':memory:' } });

function mapping(entity: string, fields: Record<string, unknown>): EntityMapping {
  return new EntityMapping(entity, 'erp', source, entitySourceSchema.parse({ table: 't', key: ['id'], fields }));
}

describe('cases: a value chosen by the row', () => {
  const m = mapping('SalesOrder', {
    code: 'no',
    status: {
      cases: [
        { when: { closer: { empty: false } }, value: 'CLOSED' },
        { when: { verifier: { empty: false } }, value: 'APPROVED' },
      ],
      default: 'DRAFT',
    },
  });

  it('takes the first case that holds, else the default; blank text counts as empty', () => {
    expect(m.columns).toEqual(['id', 'no', 'closer', 'verifier']);
    expect(m.toRecord({ id: 1, no: 'A', closer: null, verifier: null }).status).toBe('DRAFT');
    expect(m.toRecord({ id: 1, no: 'A', closer: '  ', verifier: '张三' }).status).toBe('APPROVED');
    expect(m.toRecord({ id: 1, no: 'A', closer: '李四', verifier: '张三' }).status).toBe('CLOSED');
  });

  it('is never written back and never pushed down as a column filter', () => {
    expect(m.writableFields()).toEqual(['code']);
    expect(m.fieldColumn('status')).toBeNull();
  });
});

describe('negate: a sign from another column', () => {
  const m = mapping('Invoice', { code: 'no', amount: { column: 'amt', negate: { dc: 0 } } });

  it('negates exactly, whatever the driver gives for the flag (bit, tinyint, text)', () => {
    expect(m.columns).toEqual(['id', 'no', 'amt', 'dc']);
    expect(m.toRecord({ id: 1, no: 'A', amt: '1200.50', dc: true }).amount).toBe('1200.5');
    expect(m.toRecord({ id: 1, no: 'A', amt: '1200.50', dc: false }).amount).toBe('-1200.5');
    expect(m.toRecord({ id: 1, no: 'A', amt: '99999999999999.99', dc: 0 }).amount).toBe('-99999999999999.99');
    expect(m.toRecord({ id: 1, no: 'A', amt: 1200.5, dc: 0 }).amount).toBe('-1200.5');
    expect(m.toRecord({ id: 1, no: 'A', amt: '0.00', dc: '0' }).amount).toBe('0');
    expect(m.toRecord({ id: 1, no: 'A', amt: null, dc: 0 }).amount).toBeNull();
    expect(m.fieldColumn('amount')).toBeNull();
    expect(m.writableFields()).toEqual(['code']);
  });
});

describe('config checks', () => {
  it('rejects a case value outside the enum and negate on a non-number', () => {
    let issues: { path: string; message: string }[] = [];
    try {
      parseConfig(`sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }
entities:
  SalesOrder:
    sources:
      erp:
        table: so
        key: [id]
        fields:
          code: { column: no, negate: { dc: 0 } }
          status: { cases: [{ when: { x: 1 }, value: SHIPPED }, { when: { x: 2 }, value: GONE }] }
`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues = err.issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual(['entities.SalesOrder.sources.erp.fields.code.negate', 'entities.SalesOrder.sources.erp.fields.status']);
    expect(issues.find((i) => i.path.endsWith('status'))?.message).toContain('cases.1 → "GONE"');
  });
});
