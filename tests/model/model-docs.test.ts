/**
 * docs/model.md is generated from the model and kept current, as docs/config.md is from the
 * config schema: every entity and field with its type, meaning and the entity a ref points at.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';
import { ENTITY_NAMES, MODEL } from '../../model/entities.js';
import { modelReferenceMarkdown } from '../../model/docs.js';

const COMMITTED = resolve(import.meta.dirname, '../../docs/model.md');

describe('docs/model.md', () => {
  it('is what `crmlink model docs` prints (regenerate: node bin/crmlink.mjs model docs > docs/model.md)', async () => {
    const out: string[] = [];
    expect(await main(['node', 'crmlink', 'model', 'docs'], { ...defaultContext(), out: (t) => out.push(t), err: () => {} })).toBe(0);
    expect(out.join('\n').trim()).toBe(modelReferenceMarkdown().trim());
    expect(readFileSync(COMMITTED, 'utf8').trim()).toBe(modelReferenceMarkdown().trim());
  });

  it('gives every field a meaning, and every ref the entity it points at', () => {
    const text = modelReferenceMarkdown();
    const sections = new Map(text.split('\n## ').map((s) => [s.slice(0, s.indexOf('\n')), s]));
    for (const name of ENTITY_NAMES) {
      const section = sections.get(name) ?? '';
      for (const f of MODEL[name].fields) {
        expect(f.description, `${name}.${f.name} has no description`).toBeTruthy();
        expect(section, `${name}.${f.name}`).toContain(`| \`${f.name}\` |`);
        expect(section).toContain(f.description);
      }
    }
    expect(text).toContain('| `customerId` | ref → [Customer](#customer) |');
    expect(text).toContain('| `status` | enum: `ACTIVE`, `INACTIVE`, `BLOCKED`, `PROSPECT` |');
    expect(text).toContain('| `creditLimit` | decimal (scale 2) |');
    expect(text).toContain('| `receivableBalance` | decimal, computed |');
  });
});
