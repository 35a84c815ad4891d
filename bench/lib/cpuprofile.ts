/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, self time
 * grouped by where the code lives (crmlink folder, npm package, node internals, GC, idle), and
 * crmlink's own functions by inclusive time (what a stage costs with everything it calls).
 *
 *   node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile | dir> [--top 25]
 *
 * A directory means its newest .cpuprofile.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, relative } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  /** Share of wall time the thread was idle (waiting on the databases or the network). */
  idlePct: number;
  byFunction: { fn: string; where: string; selfMs: number; pct: number }[];
  byArea: { area: string; selfMs: number; pct: number }[];
  /** crmlink's own functions by inclusive time (self + callees, each sample counted once). */
  inclusive: { fn: string; where: string; totalMs: number; pct: number }[];
}

const ROOT = process.cwd();

/** Where a frame's code lives: crmlink:schema, pkg:graphql, node:internal, (gc), (idle) … */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/');
    return `pkg:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (path.startsWith('node:')) return 'node:internal';
  if (path.startsWith(ROOT)) return `crmlink:${relative(ROOT, path).split('/')[0]}`;
  return path;
}

export function summarise(profile: Profile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const fns = new Map<string, { fn: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    total += us;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') idle += us;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const e = fns.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0 };
    e.us += us;
    fns.set(key, e);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us: number) => Math.round((us / Math.max(1, busy)) * 1000) / 10;

  // Inclusive time of crmlink's own functions: walk each sample's stack once.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = (n: ProfileNode) => {
    const u = n.callFrame.url.replace(/^file:\/\//, '');
    return u.startsWith(ROOT) && !u.includes('/node_modules/') && !u.includes('/bench/');
  };
  const incl = new Map<string, { fn: string; where: string; us: number }>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || !own(n)) continue;
      const where = `${n.callFrame.url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}`;
      const key = `${n.callFrame.functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = incl.get(key) ?? { fn: n.callFrame.functionName || '(anonymous)', where, us: 0 };
      e.us += profile.timeDeltas[i] ?? 0;
      incl.set(key, e);
    }
  });
  return {
    totalMs: Math.round(total / 1000),
    idlePct: Math.round((idle / Math.max(1, total)) * 1000) / 10,
    byFunction: [...fns.values()]
      .filter((e) => e.fn !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, selfMs: Math.round(e.us / 1000), pct: pct(e.us) })),
    byArea: [...areas.entries()]
      .filter(([a]) => a !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), pct: pct(us) })),
    inclusive: [...incl.values()]
      .filter((e) => e.fn !== '(anonymous)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ fn: e.fn, where: e.where, totalMs: Math.round(e.us / 1000), pct: pct(e.us) })),
  };
}

/**
 * CPU-profile `fn` only (not the data loading around it) with the in-process inspector, as
 * `node --cpu-prof` would, and write the profile to `file`.
 */
export async function profileDuring<T>(file: string, fn: () => Promise<T>, intervalUs = 500): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  let result: T;
  try {
    result = await fn();
  } finally {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
  }
  return { result, summary: summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile) };
}

interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

export interface AllocationSummary {
  totalMiB: number;
  /** Bytes allocated by function (objects collected since included), largest first. */
  byFunction: { fn: string; where: string; mib: number; pct: number }[];
}

/**
 * Sample what `fn` allocates (V8's sampling heap profiler with the objects young and old
 * collections freed kept in the profile: the garbage, not only what survives) and write the
 * .heapprofile to `file`. What makes the collector's work, by allocating function.
 */
export async function allocationsDuring<T>(file: string, fn: () => Promise<T>, top = 25): Promise<{ result: T; summary: AllocationSummary }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // includeObjectsCollectedBy*: V8 ≥ 11 (Node 20); without them only survivors would be counted.
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
  let result: T;
  let head: HeapNode;
  try {
    result = await fn();
  } finally {
    ({ profile: { head } } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: HeapNode } });
    writeFileSync(file, JSON.stringify({ head }));
    session.disconnect();
  }
  const byFn = new Map<string, { fn: string; where: string; bytes: number }>();
  let total = 0;
  const walk = (n: HeapNode) => {
    total += n.selfSize;
    if (n.selfSize > 0) {
      const { functionName, url, lineNumber } = n.callFrame;
      const where = url ? `${url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')}:${lineNumber + 1}` : '';
      const key = `${functionName}@${where}`;
      const e = byFn.get(key) ?? { fn: functionName || '(anonymous)', where, bytes: 0 };
      e.bytes += n.selfSize;
      byFn.set(key, e);
    }
    for (const c of n.children) walk(c);
  };
  walk(head);
  const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return {
    result,
    summary: {
      totalMiB: mib(total),
      byFunction: [...byFn.values()]
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, top)
        .map((e) => ({ fn: e.fn, where: e.where, mib: mib(e.bytes), pct: Math.round((e.bytes / Math.max(1, total)) * 1000) / 10 })),
    },
  };
}

export function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: node --import tsx bench/lib/cpuprofile.ts <file.cpuprofile | dir> [--top 25]');
    process.exit(2);
  }
  const topAt = process.argv.indexOf('--top');
  const file = statSync(target).isDirectory() ? newestProfile(target) : target;
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, topAt > 0 ? Number(process.argv[topAt + 1]) : 25);
  console.log(`${file}: ${s.totalMs} ms sampled, ${s.idlePct}% idle; percentages are of busy time`);
  console.log('\nself time by area');
  for (const a of s.byArea) console.log(`${String(a.pct).padStart(6)}%  ${String(a.selfMs).padStart(7)} ms  ${a.area}`);
  console.log('\nself time by function');
  for (const f of s.byFunction) console.log(`${String(f.pct).padStart(6)}%  ${String(f.selfMs).padStart(7)} ms  ${f.fn}  ${f.where}`);
  console.log('\ncrmlink functions by inclusive time (self + callees)');
  for (const f of s.inclusive) console.log(`${String(f.pct).padStart(6)}%  ${String(f.totalMs).padStart(7)} ms  ${f.fn}  ${f.where}`);
}
