/**
 * Retention (保留策略): which backups to keep. The newest `last`, plus the newest backup of each of
 * the last `daily` UTC days and of each of the last `weekly` ISO weeks that have one (the usual
 * grandfather-father-son scheme). The newest backup is always kept. Pure, so it is tested with
 * literal dates.
 */
import type { BackupConfig } from '../../config/schema.js';

export interface Keep {
  last: number;
  daily: number;
  weekly: number;
}

export function keepOf(config: BackupConfig['keep']): Keep {
  return typeof config === 'number' ? { last: config, daily: 0, weekly: 0 } : config;
}

/** The names to keep among `backups` (any order). */
export function retained(backups: readonly { name: string; createdAt: string }[], keep: Keep): Set<string> {
  const newestFirst = [...backups].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.name < b.name ? 1 : -1));
  const out = new Set<string>(newestFirst.slice(0, Math.max(1, keep.last)).map((b) => b.name));
  const byPeriod = (period: (d: Date) => string, count: number) => {
    const seen = new Set<string>();
    for (const b of newestFirst) {
      if (seen.size >= count) break;
      const key = period(new Date(b.createdAt));
      if (seen.has(key)) continue;
      seen.add(key);
      out.add(b.name);
    }
  };
  byPeriod((d) => d.toISOString().slice(0, 10), keep.daily);
  byPeriod(isoWeek, keep.weekly);
  return out;
}

/** ISO-8601 week, e.g. "2026-W49" (weeks start on Monday; week 1 holds the year's first Thursday). */
export function isoWeek(date: Date): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
