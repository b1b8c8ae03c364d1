// What every script does on failure: one clear line on stderr and exit code 1, never a stack
// trace (nor SQL: a database error is named by its PostgreSQL message and code only).
import { pgErrorOf } from "../common/errors.js";
import { DatabaseBusyError } from "../db/lock.js";

/** The one line a failed script prints. */
export function failureLine(err: unknown): string {
  if (err instanceof DatabaseBusyError) return err.message;
  const pg = pgErrorOf(err);
  if (pg) {
    let e: unknown = err;
    while (e && typeof e === "object" && (e as { cause?: unknown }).cause && !(e as { code?: unknown }).code) e = (e as { cause: unknown }).cause;
    const message = e instanceof Error ? e.message : "database error";
    return `database error ${pg.code}: ${message.split("\n")[0]}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.split("\n")[0] || "failed";
}

export async function runScript(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(`${name}: ${failureLine(err)}`);
    process.exitCode = 1;
  }
}
