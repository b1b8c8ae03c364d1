/**
 * A promise whose rejection is handled (by whoever awaits it, or nobody): for statements sent ahead
 * of the code that reads their answers (src/db/scope.ts, recordAttendance's batch reads), which a
 * refusal may end before they are awaited.
 */
export function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}
