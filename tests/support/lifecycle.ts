/**
 * Something a describe block (or a file) opens before its tests and closes after them: a server,
 * a fixture, a database. `useOpened` registers the two hooks and returns an object that stands for
 * the opened thing, so tests read it as a plain constant instead of a `let` assigned in a hook.
 */
import { afterAll, afterEach, beforeAll, onTestFinished } from 'vitest';

export function useOpened<T extends object>(open: () => Promise<T>, close: (opened: T) => Promise<unknown> = (o) => (o as { close(): Promise<unknown> }).close()): T {
  let opened: T | undefined;
  beforeAll(async () => {
    opened = await open();
  });
  afterAll(async () => {
    if (opened) await close(opened);
  });
  return new Proxy({} as T, {
    get(_target, key) {
      if (!opened) throw new Error(`not opened yet (reading ${String(key)}): read it inside a test or a hook registered after this call`);
      // As it is, not bound: a property may be a function with properties of its own (a yoga app).
      return Reflect.get(opened, key);
    },
    set(_target, key, value) {
      if (!opened) throw new Error(`not opened yet (writing ${String(key)})`);
      return Reflect.set(opened, key, value);
    },
  });
}

/** Closes `opened` when the running test finishes, passed or failed, and returns it. */
export function closeAfterTest<T extends { close(): Promise<unknown> }>(opened: T): T {
  onTestFinished(async () => {
    await opened.close();
  });
  return opened;
}

/**
 * Closers a test registers as it opens things (listeners, pollers, clients), run after each test,
 * last first; a closer's error is ignored (a failed test may leave things half open). `last` runs
 * after them (the world the things ran against).
 */
export function cleanupsAfterEach(last?: () => Promise<unknown>): (() => Promise<unknown>)[] {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await last?.();
  });
  return cleanups;
}
