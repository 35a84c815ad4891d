/** The run event bus: rate and time left per phase and source on an injected clock, and the final event. */
import { describe, expect, it } from 'vitest';
import { RunEventBus, type RunProgress } from '../../sync/run-events.js';

describe('RunEventBus', () => {
  it('adds rows/s and seconds left from when each phase of each source began, then one final event', () => {
    let now = 1_000_000;
    const bus = new RunEventBus(() => now);
    const seen: RunProgress[] = [];
    const stop = bus.listen((e) => seen.push(e));
    expect(bus.listening).toBe(true);

    bus.progress(7, { job: 'customers', phase: 'pull', source: 'erp', done: 0, estimated: 1000 });
    now += 2000;
    bus.progress(7, { job: 'customers', phase: 'pull', source: 'erp', done: 400, estimated: 1000 });
    // Another source starts its own clock.
    bus.progress(7, { job: 'customers', phase: 'pull', source: 'finance', done: 50, estimated: null });
    now += 1000;
    bus.finished(7, 'customers', 'ok');

    expect(seen.map((e) => [e.source, e.done, e.rowsPerSecond, e.etaSeconds, e.final])).toEqual([
      ['erp', 0, null, null, false],
      ['erp', 400, 200, 3, false],
      ['finance', 50, null, null, false],
      ['finance', 50, null, 0, true],
    ]);
    expect(seen[3]).toMatchObject({ runId: 7, job: 'customers', status: 'ok' });
    stop();
    expect(bus.listening).toBe(false);
  });

  it('a listener that throws does not stop the others', () => {
    const bus = new RunEventBus(() => 0);
    const seen: string[] = [];
    bus.listen(() => {
      throw new Error('broken listener');
    });
    bus.listen((e) => seen.push(e.job));
    bus.finished(null, 'orders', 'failed');
    expect(seen).toEqual(['orders']);
  });
});
