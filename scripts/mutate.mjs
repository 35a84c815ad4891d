#!/usr/bin/env node
/**
 * `npm run mutate` runs StrykerJS over every module of scripts/mutate-modules.mjs, one after the
 * other; `npm run mutate -- merge retry` over those named. Each run type-checks its mutants against
 * a small TypeScript program (the module's files and its tests, written to .mutate/) and executes
 * only the module's test files. Reports: reports/mutation/<module>.html and .json; a summary per
 * module (mutants, killed, survived, equivalent = marked with a `Stryker disable` comment, score,
 * run time) is printed at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { MODULES } from './mutate-modules.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((m) => !Object.hasOwn(MODULES, m));
if (unknown.length > 0) {
  console.error(`unknown module(s): ${unknown.join(', ')}; known: ${Object.keys(MODULES).join(', ')}`);
  process.exit(2);
}
const names = asked.length > 0 ? asked : Object.keys(MODULES);

/** The TypeScript program the checker compiles for a module: its sources and tests, and what they import. */
function writeTsconfig(name) {
  const m = MODULES[name];
  mkdirSync(join(root, '.mutate'), { recursive: true });
  const file = join(root, '.mutate', `tsconfig.${name}.json`);
  writeFileSync(file, `${JSON.stringify({ extends: '../tsconfig.json', include: [...m.mutate, ...m.tests].map((f) => `../${f}`) }, null, 2)}\n`);
}

/** Counts from Stryker's JSON report (mutation-testing-report-schema). */
function summarise(name) {
  const file = join(root, 'reports', 'mutation', `${name}.json`);
  if (!existsSync(file)) return null;
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const n = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, equivalent: 0, compileError: 0 };
  for (const f of Object.values(report.files)) {
    for (const mutant of f.mutants) {
      n.mutants++;
      if (mutant.status === 'Killed') n.killed++;
      else if (mutant.status === 'Timeout') n.timeout++;
      else if (mutant.status === 'Survived') n.survived++;
      else if (mutant.status === 'NoCoverage') n.noCoverage++;
      else if (mutant.status === 'Ignored') n.equivalent++;
      else if (mutant.status === 'CompileError') n.compileError++;
    }
  }
  const detected = n.killed + n.timeout;
  const valid = detected + n.survived + n.noCoverage;
  return { ...n, score: valid === 0 ? null : (100 * detected) / valid };
}

const results = [];
for (const name of names) {
  writeTsconfig(name);
  console.log(`\n=== mutate ${name}: ${MODULES[name].what} (${MODULES[name].mutate.join(', ')})`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [join(root, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', 'stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATE_MODULE: name, CI: 'true' },
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  results.push({ name, status: run.status, seconds, counts: run.status === 0 ? summarise(name) : null });
}

console.log('\nmodule | mutants | killed (timeout) | survived | no coverage | equivalent | type errors | score | time');
for (const r of results) {
  const c = r.counts;
  const time = `${Math.floor(r.seconds / 60)} min ${r.seconds % 60} s`;
  if (!c) console.log(`${r.name} | failed (exit ${r.status}) | | | | | | | ${time}`);
  else
    console.log(
      `${r.name} | ${c.mutants} | ${c.killed} (${c.timeout}) | ${c.survived} | ${c.noCoverage} | ${c.equivalent} | ${c.compileError} | ${c.score === null ? '-' : `${c.score.toFixed(1)} %`} | ${time}`,
    );
}
process.exit(results.every((r) => r.status === 0) ? 0 : 1);
