/**
 * model/time.ts's hand-written zone conversion (Intl offsets cached per zone and day, chosen over
 * the Temporal polyfill for speed: bench/libraries.bench.ts) agrees with temporal-polyfill at
 * every offset transition of zones with unusual histories: both ways, instants just around each
 * change, and wall clocks every 15 minutes through each gap and overlap (Temporal's default
 * 'compatible' disambiguation). The zone data is the same ICU data for both.
 */
import { describe, expect, it } from 'vitest';
import { Temporal } from 'temporal-polyfill';
import { utcToZoned, zonedToUtc } from '../../model/time.js';

const HOUR = 3_600_000;

function transitions(timeZone: string, fromYear: number, toYear: number): number[] {
  const out: number[] = [];
  const end = Date.UTC(toYear, 0, 1);
  let z = Temporal.ZonedDateTime.from({ timeZone, year: fromYear, month: 1, day: 1 });
  for (;;) {
    const next = z.getTimeZoneTransition('next');
    if (!next || next.epochMilliseconds >= end) return out;
    out.push(next.epochMilliseconds);
    z = next;
  }
}

const temporalOffset = (ms: number, timeZone: string) => Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timeZone).offsetNanoseconds / 1e6;

function temporalZonedToUtc(wallMs: number, timeZone: string): number {
  const d = new Date(wallMs);
  return new Temporal.PlainDateTime(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()).toZonedDateTime(timeZone).epochMilliseconds;
}

describe('zone conversion agrees with the Temporal polyfill at every transition', () => {
  it.each([
    ['America/New_York', 1970],
    ['Asia/Shanghai', 1940], // summer time 1940–1949 and 1986–1991
    ['Europe/Berlin', 1970],
    ['Europe/Dublin', 1970], // "negative" summer time in the zone data
    ['Australia/Lord_Howe', 1980], // 30-minute summer time
    ['Pacific/Apia', 2009], // skipped 30 December 2011 (−10 h → +14 h)
    ['Africa/Casablanca', 2008], // summer time paused for Ramadan
    ['Antarctica/Troll', 2005], // +00 ↔ +02
  ])('%s from %i', (timeZone, fromYear) => {
    const list = transitions(timeZone, fromYear, 2030);
    expect(list.length).toBeGreaterThan(0);
    const wrong: string[] = [];
    for (const t of list) {
      for (const k of [-HOUR, -1, 0, 1, HOUR]) {
        if (utcToZoned(t + k, timeZone) - (t + k) !== temporalOffset(t + k, timeZone)) wrong.push(`utc ${new Date(t + k).toISOString()}`);
      }
      const wall = t + temporalOffset(t - 1, timeZone);
      for (let w = wall - 2 * HOUR; w <= wall + 2 * HOUR; w += 15 * 60_000) {
        if (zonedToUtc(w, timeZone) !== temporalZonedToUtc(w, timeZone)) wrong.push(`wall ${new Date(w).toISOString().slice(0, 16)}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('Asia/Shanghai 1986–1991: six summers, each 02:00 → 03:00 in April/May and back in September', () => {
    expect(transitions('Asia/Shanghai', 1986, 1992)).toHaveLength(12);
    // 02:30 on 4 May 1986 never happened: read as 03:30 CDT (UTC+9).
    expect(new Date(zonedToUtc(Date.UTC(1986, 4, 4, 2, 30), 'Asia/Shanghai')).toISOString()).toBe('1986-05-03T18:30:00.000Z');
    // 01:30 on 15 September 1991 happened twice: the first time, still UTC+9.
    expect(new Date(zonedToUtc(Date.UTC(1991, 8, 15, 1, 30), 'Asia/Shanghai')).toISOString()).toBe('1991-09-14T16:30:00.000Z');
  });
});
