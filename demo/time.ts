/**
 * Dates as the three demo systems store them: the ERP and the OA keep naive wall-clock text in
 * Asia/Shanghai (UTC+8, no daylight saving), finance keeps ISO-8601 UTC.
 */

const SHANGHAI_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The day the seeded history ends ("today" for the data set), so every run produces the same rows. */
export const AS_OF = '2026-09-30';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** 'YYYY-MM-DD HH:MM:SS' in Asia/Shanghai. */
export function shanghaiDateTime(at: Date): string {
  const d = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  return `${shanghaiDate(at)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** 'YYYY-MM-DD' in Asia/Shanghai. */
export function shanghaiDate(at: Date): string {
  const d = new Date(at.getTime() + SHANGHAI_OFFSET_MS);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/** 'HH:MM:SS' in Asia/Shanghai. */
export function shanghaiTime(at: Date): string {
  return shanghaiDateTime(at).slice(11);
}

/** ISO-8601 UTC as JavaScript writes it: '2026-03-14T02:11:09.000Z' (sorts correctly as text). */
export function isoUtc(at: Date): string {
  return at.toISOString();
}

/** The instant of a Shanghai wall-clock time on a day: day 'YYYY-MM-DD', seconds since midnight. */
export function shanghaiInstant(day: string, secondOfDay = 0): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - SHANGHAI_OFFSET_MS + secondOfDay * 1000);
}

/** A calendar day plus `days` ('YYYY-MM-DD' in, 'YYYY-MM-DD' out). */
export function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

export function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
