/**
 * Row mapping: source rows → canonical CRM records through EntityMapping.toRecord, against a
 * hand-written conversion of the same rows that does the least any mapping must (decimal text
 * kept as given, naive Shanghai times shifted by a fixed +08:00, dates sliced). The ratio says
 * what the general rules (exact decimals in canonical form, zone rules, code maps, text clean-up)
 * cost over that floor.
 *
 *   node --import tsx bench/mapping.bench.ts [--rows 200000] [--rounds 3]
 *
 * Also times the decimal rule alone on plain-notation text (what drivers return): the project's
 * normalizeDecimal against constructing a decimal.js Decimal per value, the measurement behind
 * model/decimal.ts's string path.
 */
import { performance } from 'node:perf_hooks';
import { Decimal } from 'decimal.js';
import { entitySourceSchema, type SourceConfig } from '../config/schema.js';
import { EntityMapping } from '../connectors/mapping/entity-mapping.js';
import { normalizeDecimal } from '../connectors/mapping/transforms.js';
import { flags, round } from './lib/common.js';

const f = flags();
const ROWS = f.num('rows', 200_000);
const ROUNDS = f.num('rounds', 3);

const source = { dialect: 'mssql', connection: { host: 'x' }, timezone: 'Asia/Shanghai', readOnly: false } as unknown as SourceConfig;
const mapping = new EntityMapping(
  'Customer',
  'erp',
  source,
  entitySourceSchema.parse({
    table: 'Customer',
    key: ['cCusCode'],
    fields: {
      code: 'cCusCode',
      name: { column: 'cCusName', trim: true },
      phone: 'cCusPhone',
      city: 'cCusCity',
      creditLimit: { column: 'iCusCreLine', scale: 2 },
      status: { column: 'bDisable', map: { '0': 'ACTIVE', '1': 'INACTIVE' } },
      createdAt: 'dCusCreateDatetime',
      updatedAt: 'dModifyDate',
    },
  }),
);

function rows(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    out.push({
      cCusCode: `C${String(i).padStart(6, '0')}`,
      cCusName: ` 客户${i}有限公司 `,
      cCusPhone: `010-${String(10_000_000 + i)}`,
      cCusCity: '北京',
      // what SQL Server and PostgreSQL return for decimal(18,2): text with its scale
      iCusCreLine: `${i % 1000}${i % 7}000.${i % 3 === 0 ? '00' : String(10 + (i % 90))}`,
      bDisable: i % 5 === 0 ? '1' : '0',
      dCusCreateDatetime: `20${10 + (i % 15)}-0${1 + (i % 9)}-${day} 08:${String(i % 60).padStart(2, '0')}:00`,
      dModifyDate: `2025-0${1 + (i % 9)}-${day} 17:30:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}`,
    });
  }
  return out;
}

function handWritten(r: Record<string, unknown>): Record<string, unknown> {
  const at = (s: unknown) => new Date(Date.parse(`${String(s).replace(' ', 'T')}+08:00`)).toISOString();
  return {
    code: r.cCusCode,
    name: String(r.cCusName).trim(),
    phone: r.cCusPhone,
    city: r.cCusCity,
    creditLimit: r.iCusCreLine,
    status: r.bDisable === '1' ? 'INACTIVE' : 'ACTIVE',
    createdAt: at(r.dCusCreateDatetime),
    updatedAt: at(r.dModifyDate),
  };
}

function timeIt(label: string, fn: () => number): { label: string; seconds: number; check: number } {
  let best = Number.POSITIVE_INFINITY;
  let check = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    check = fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return { label, seconds: round(best, 3), check };
}

const data = rows(ROWS);
const crmlink = timeIt('EntityMapping.toRecord', () => {
  let n = 0;
  for (const r of data) n += Object.keys(mapping.toRecord(r)).length;
  return n;
});
const hand = timeIt('hand-written conversion', () => {
  let n = 0;
  for (const r of data) n += Object.keys(handWritten(r)).length;
  return n;
});
const decimals = data.map((r) => String(r.iCusCreLine));
const ruleNs = (fn: (s: string) => string) => {
  const t = timeIt('', () => {
    let n = 0;
    for (const d of decimals) n += fn(d).length;
    return n;
  });
  return round((t.seconds * 1e9) / decimals.length, 0);
};

console.log(
  JSON.stringify(
    {
      bench: 'mapping',
      rows: ROWS,
      crmlink: { rowsPerSecond: Math.round(ROWS / crmlink.seconds), seconds: crmlink.seconds },
      handWritten: { rowsPerSecond: Math.round(ROWS / hand.seconds), seconds: hand.seconds },
      ratio: round(hand.seconds / crmlink.seconds, 3),
      decimalNsPerValue: { normalizeDecimal: ruleNs(normalizeDecimal), decimalJs: ruleNs((s) => new Decimal(s).toFixed()) },
    },
    null,
    2,
  ),
);
