/** Values a test receives from callbacks (runs, polls, notifications), and waits on them. */
export interface Collector<T> {
  readonly items: T[];
  push(item: T): void;
  /** All items, once there are at least `n`. */
  untilCount(n: number): Promise<T[]>;
  /** The first item that satisfies `ok` (checked when an item arrives, and against the items so far). */
  untilItem(ok: (item: T) => boolean): Promise<T>;
}

export function collector<T>(): Collector<T> {
  const items: T[] = [];
  // Each waiter looks at the new item (and the list it joined); it resolves itself and says whether it is done.
  let waiters: ((item: T) => boolean)[] = [];
  return {
    items,
    push(item: T) {
      items.push(item);
      waiters = waiters.filter((done) => !done(item));
    },
    untilCount(n: number): Promise<T[]> {
      if (items.length >= n) return Promise.resolve(items);
      return new Promise<T[]>((resolve) => waiters.push(() => items.length >= n && (resolve(items), true)));
    },
    untilItem(ok: (item: T) => boolean): Promise<T> {
      const found = items.find(ok);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise<T>((resolve) => waiters.push((item) => ok(item) && (resolve(item), true)));
    },
  };
}
