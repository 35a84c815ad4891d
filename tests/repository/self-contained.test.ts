/**
 * A user's clone has nothing beside it: no tracked file may read test data (or anything else)
 * from a sibling folder of the repository, nor name a path of the machine it was written on.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

/** Built from parts so this file does not match itself. */
const outside = [
  new RegExp(['\\.\\.', 'shared(?:/|[\'"`])'].join('/')),
  new RegExp(['', 'work', ''].join('/')),
];

function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' });
  return out.split('\0').filter((f) => f && !/\.(mdb|accdb|xlsx|png|jpg|ico|woff2?)$/.test(f) && !f.startsWith('tests/fixtures/'));
}

describe('the repository is self-contained', () => {
  it('no tracked file refers to a folder outside the repository', () => {
    const files = trackedTextFiles();
    expect(files.length).toBeGreaterThan(100);
    const hits: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      text.split('\n').forEach((line, i) => {
        if (outside.some((re) => re.test(line))) hits.push(`${file}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('the vendored fixtures carry their licences', () => {
    for (const licence of ['third_party/postgres/northwind.LICENSE', 'sqlserver/instnwnd.LICENSE', 'yudao.LICENSE', 'access/LICENSE.mdb-reader', 'README.md']) {
      expect(readFileSync(join(root, 'tests/fixtures', licence), 'utf8').length).toBeGreaterThan(100);
    }
  });
});
