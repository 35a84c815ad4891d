/**
 * The console's labels: Chinese and English have the same keys, and every label the pages ask for
 * by a literal key exists. Runs without a browser (i18n.js only touches the DOM when it exists).
 */
import { describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ASSETS = fileURLToPath(new URL('../../console/assets/', import.meta.url));

function scripts(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? scripts(p) : n.endsWith('.js') ? [p] : [];
  });
}

async function messages(): Promise<Record<'en' | 'zh', Record<string, string>>> {
  const mod = (await import(pathToFileURL(join(ASSETS, 'i18n.js')).href)) as { MESSAGES: Record<'en' | 'zh', Record<string, string>> };
  return mod.MESSAGES;
}

describe('console labels', () => {
  test('zh and en have the same keys and the same placeholders', async () => {
    const { en, zh } = await messages();
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    const holes = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const k of Object.keys(en)) expect([k, holes(zh[k])]).toEqual([k, holes(en[k])]);
  });

  test('every literal key used by the pages exists; so do the keys built from known names', async () => {
    const { en } = await messages();
    const used = new Set<string>();
    for (const file of scripts(ASSETS)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((k) => !(k in en))).toEqual([]);
    const built = [
      ...['sources', 'jobs', 'conflicts', 'parked', 'merges', 'customers', 'analysis'].map((v) => `nav.${v}`),
      ...['PROSPECT', 'NEW', 'GROWING', 'MATURE', 'DECLINING', 'LAPSED'].map((v) => `analysis.stage.${v}`),
      ...['KEEP', 'DEVELOP', 'MAINTAIN', 'REDUCE'].map((v) => `analysis.quadrant.${v}`),
      ...['days0To30', 'days31To60', 'days61To90', 'over90'].map((v) => `analysis.aging.${v}`),
      ...['code', 'name', 'shortName', 'creditCode', 'phone', 'email', 'address', 'city', 'province', 'industry', 'status', 'creditLimit', 'ownerId', 'ownerTeam', 'createdAt', 'updatedAt'].map((f) => `field.${f}`),
      ...['IN_SYNC', 'PENDING', 'CONFLICT', 'ERROR'].map((s) => `sync.${s}`),
      ...['ok', 'partial', 'failed', 'skipped', 'aborted', 'running', 'abandoned'].map((s) => `run.${s}`),
      ...['both', 'pull', 'push'].map((d) => `direction.${d}`),
      ...['OPEN', 'RESOLVED', 'ALL'].map((s) => `conflicts.status.${s}`),
      ...['open', 'accepted', 'rejected', 'superseded', 'all'].map((s) => `merges.status.${s}`),
      ...['parked', 'resolved', 'all'].map((s) => `parked.status.${s}`),
      ...['erp', 'finance', 'oa', 'crm'].map((k) => `kind.${k}`),
      ...['manual', 'scheduled', 'before-restore'].map((l) => `backup.label.${l}`),
      ...['PHONE', 'VISIT', 'EMAIL', 'WECHAT', 'WEB', 'OTHER'].map((c) => `channel.${c}`),
    ];
    expect(built.filter((k) => !(k in en))).toEqual([]);
  });

  test('every error code the server can send has a label in both languages (the console says codes, not English messages, in Chinese)', async () => {
    const { en, zh } = await messages();
    const source = readFileSync(fileURLToPath(new URL('../../core/errors.ts', import.meta.url)), 'utf8');
    const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
    expect(codes.length).toBeGreaterThan(15);
    for (const code of [...codes, 'NETWORK']) {
      expect(en[`error.code.${code}`], code).toBeTruthy();
      expect(zh[`error.code.${code}`], code).toMatch(/[\u4e00-\u9fff]/);
    }
  });
});

describe('conflict reasons in Chinese', () => {
  const serverText = async () => (await import(pathToFileURL(join(ASSETS, 'server-text.js')).href)) as { conflictReason: (c: unknown) => string };
  const i18n = async () => (await import(pathToFileURL(join(ASSETS, 'i18n.js')).href)) as { setLang: (l: string) => void };

  test('a conflict closed as agreed says so, not that it waits for a person', async () => {
    (await i18n()).setLang('zh');
    const { conflictReason } = await serverText();
    const base = { field: 'name', base: 'N2', rule: 'manual', winner: 'finance', values: [{ side: 'hub', value: 'N7' }, { side: 'erp', value: 'N7' }, { side: 'finance', value: 'N7' }] };
    const agreed = conflictReason({ ...base, status: 'RESOLVED', resolution: { auto: true, agreed: true, keep: 'finance', value: 'N7' } });
    expect(agreed).toContain('已作为一致自动关闭');
    expect(agreed).toContain('N7');
    expect(agreed).not.toContain('等待人工处理');
    expect(conflictReason({ ...base, status: 'OPEN', resolution: null })).toContain('等待人工处理');
  });
});
