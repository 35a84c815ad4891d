/**
 * Job runs started in the background (a cron tick, a change notification): each is remembered
 * by job until it ends, an error that escapes it goes to the caller's handler rather than into a
 * timer, and stop() aborts all of them through one signal and waits for them.
 */
export class BackgroundRuns {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly controller = new AbortController();

  /** What each run is given to stop at its next safe point. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  has(job: string): boolean {
    return this.inFlight.has(job);
  }

  /** Runs `work` for `job`, remembered until it ends (the newest one when they overlap); an error it throws goes to `failed`. */
  start(job: string, work: (signal: AbortSignal) => Promise<void>, failed: (err: unknown) => void): Promise<void> {
    const p = (async () => {
      try {
        await work(this.controller.signal);
      } catch (err) {
        failed(err);
      }
    })();
    this.inFlight.set(job, p);
    return p.finally(() => {
      if (this.inFlight.get(job) === p) this.inFlight.delete(job);
    });
  }

  /** Abort every run with `reason`, and resolve once all of them have ended. */
  async stop(reason: string): Promise<void> {
    this.controller.abort(new Error(reason));
    await Promise.allSettled([...this.inFlight.values()]);
  }
}
