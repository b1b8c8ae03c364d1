// A background loop of one instance (the reminders worker, the engagement worker, the audit
// sealer): a round now, then the next one `intervalMs` after the previous ended, until stopped.
// Rounds never overlap; a failed round is reported and the loop goes on; the timers do not keep the
// process alive.

export class Repeater {
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<unknown> | undefined;
  #stopped = false;

  constructor(
    private readonly round: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether stop() was called (a long round may end early). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Starts the loop; an interval of 0 runs nothing (tests drive the rounds themselves). */
  start(intervalMs: number): void {
    if (!intervalMs) return;
    const loop = async () => {
      if (this.#stopped) return;
      this.#current = this.round().catch(this.onError);
      await this.#current;
      if (!this.#stopped) {
        this.#timer = setTimeout(() => void loop(), intervalMs);
        this.#timer.unref();
      }
    };
    this.#timer = setTimeout(() => void loop(), 0);
    this.#timer.unref();
  }

  /** Stops the loop and waits for the round in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#current;
  }
}
