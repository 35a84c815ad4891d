/**
 * Something a describe block (or a file) opens before its tests and closes after them: a server,
 * a fixture, a database. `useOpened` registers the two hooks and returns an object that stands for
 * the opened thing, so tests read it as a plain constant instead of a `let` assigned in a hook.
 */
import { afterAll, beforeAll, onTestFinished } from 'vitest';

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
