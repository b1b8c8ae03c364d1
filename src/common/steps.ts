// Write steps: the one way a module lets modules above it act inside its transaction.
//
// A module that writes declares one `WriteSteps` per kind of write (e.g. `attendanceWriteSteps`) and
// runs it at the end of its transaction, so the write and everything derived from it commit
// together or not at all. It never imports the modules whose steps run: they are added at
// composition time, in src/steps.ts, which is the one list of every step that runs on a write.
import type { Tx } from "../db/client.js";

/** One step: gets the writer's transaction and what was written (the arguments `A` of its kind). */
export type WriteStep<A extends unknown[]> = (tx: Tx, ...write: A) => Promise<void>;

export class WriteSteps<A extends unknown[]> {
  readonly #steps: Array<{ name: string; step: WriteStep<A> }> = [];
  #composed = false;

  constructor(readonly kind: string) {}

  /** Adds a step, run after those added before it. Only while composing (src/steps.ts). */
  add(name: string, step: WriteStep<A>): void {
    if (this.#composed) throw new Error(`${this.kind}: steps are added in src/steps.ts, before the first write`);
    this.#steps.push({ name, step });
  }

  /** Ends composition: from now on the list is fixed and the writes may run. */
  seal(): void {
    this.#composed = true;
  }

  /** Runs every step in order, inside the writer's transaction. */
  async run(tx: Tx, ...write: A): Promise<void> {
    // A write before composition would silently skip its steps (e.g. the attendance history).
    if (!this.#composed) throw new Error(`${this.kind}: write steps are not composed (composeWriteSteps() in src/steps.ts)`);
    for (const { step } of this.#steps) await step(tx, ...write);
  }

  /**
   * Runs every step at once, inside the writer's transaction: each is started in order, and its
   * statements are sent as it asks for them, without waiting for the steps before it to finish.
   * The transaction's connection runs them in the order sent (postgres.js pipelines them), so the
   * steps' first statements cost one round trip together, and locks are still taken in the
   * steps' order. Only for kinds whose steps are independent: no step reads what another writes.
   * Waits for every step to end (no statement is sent after the transaction ends), then fails
   * with the first failed step's error, in the steps' order.
   */
  async runTogether(tx: Tx, ...write: A): Promise<void> {
    if (!this.#composed) throw new Error(`${this.kind}: write steps are not composed (composeWriteSteps() in src/steps.ts)`);
    const ended = await Promise.allSettled(this.#steps.map(({ step }) => step(tx, ...write)));
    const failed = ended.find((e): e is PromiseRejectedResult => e.status === "rejected");
    if (failed) throw failed.reason;
  }
}
