// "Now", from one clock. Every rule about days, weeks or time zones reads the time here, so tests
// can set it to the instants that break such rules (midnight, DST changes, 29 February).
// In production it is the system clock; nothing else in src/ calls `new Date()` for "now".

type Now = () => Date;

const systemNow: Now = () => new Date();
let current: Now = systemNow;

export const clock = {
  /** The current instant. */
  now(): Date {
    return current();
  },
};

/**
 * Tests: freeze "now" at an instant (ISO string or Date), or drive it with a function.
 * @public
 */
export function setClock(at: string | Date | Now): void {
  if (typeof at === "function") {
    current = at;
    return;
  }
  const fixed = new Date(at);
  if (Number.isNaN(fixed.getTime())) throw new Error(`setClock: not an instant: ${String(at)}`);
  current = () => new Date(fixed.getTime());
}

/** Tests: back to the system clock. */
export function resetClock(): void {
  current = systemNow;
}
