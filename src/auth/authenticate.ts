// The one way a request is authenticated: `Authorization: Bearer <credential>`. A credential that
// starts with `rg_live_` is an API key (src/auth/apikeys.ts); anything else is a staff JWT.
// Neither the credential nor why it was refused is ever logged.
//
// A staff member's viewer (status, memberships, facilitated groups) is kept by each instance for
// at most `VIEWER_CACHE_MS` (5 s), so that a request costs no lookup. Every change to what it is
// made of sends NOTIFY viewer_changed with the staff id in the writer's transaction (triggers on
// staff, staff_memberships and group_facilitators, drizzle/*_roundtrip_viewer_notify.sql), and
// every instance drops that viewer when it arrives: a deactivation or a removed membership is
// refused on every instance as soon as the notification is delivered (milliseconds). Only while
// an instance is not listening (its listening connection dropped) can a change be missed: it then
// keeps nothing, and on listening again drops everything it kept; what it kept during the gap is
// the one case bounded by VIEWER_CACHE_MS alone. API keys are not kept (revoked = refused next request).
import { clock } from "../common/clock.js";
import { isDatabaseUnavailable, serviceUnavailable } from "../common/errors.js";
import type { Database, Db } from "../db/client.js";
import { isApiKey, loadApiClientViewer } from "./apikeys.js";
import type { TokenVerifier } from "./tokens.js";
import { loadViewer, type StaffViewer, type Viewer } from "./viewer.js";

/** The channel the viewer triggers notify on: a staff id, or "*" (everything changed). */
const VIEWER_CHANNEL = "viewer_changed";
/** Viewers kept at most, per instance (the oldest go first). */
const MAX_VIEWERS = 10_000;

/** Staff viewers by auth subject, kept for a few seconds and dropped on NOTIFY (see above). */
export class ViewerCache {
  private readonly viewers = new Map<string, { viewer: StaffViewer; until: number }>();
  private listening = false;
  /** Counts what was dropped: a viewer read before a drop is not kept (it may be the old one). */
  private drops = 0;
  private unlisten?: () => Promise<void>;

  constructor(private readonly ttlMs: number) {}

  /** Starts listening (the cache holds nothing until it listens, nor when its TTL is 0). */
  async start(database: Database): Promise<void> {
    if (this.ttlMs <= 0) return;
    this.unlisten = await database.listen(
      VIEWER_CHANNEL,
      (payload) => this.dropped(payload),
      () => {
        // (Re)started: whatever changed while not listening is unknown.
        this.viewers.clear();
        this.drops++;
        this.listening = true;
      },
    );
  }

  async stop(): Promise<void> {
    this.listening = false;
    this.viewers.clear();
    await this.unlisten?.();
  }

  get(subject: string): StaffViewer | undefined {
    const kept = this.viewers.get(subject);
    if (!kept) return undefined;
    if (!this.listening || kept.until <= clock.now().getTime()) {
      this.viewers.delete(subject);
      return undefined;
    }
    return kept.viewer;
  }

  /** Where the drops are: give it back to `set` with a viewer read after asking. */
  mark(): number {
    return this.drops;
  }

  set(subject: string, viewer: StaffViewer, mark: number): void {
    if (!this.listening || mark !== this.drops) return;
    if (this.viewers.size >= MAX_VIEWERS) this.viewers.delete(this.viewers.keys().next().value!);
    this.viewers.set(subject, { viewer, until: clock.now().getTime() + this.ttlMs });
  }

  private dropped(payload: string): void {
    this.drops++;
    if (payload === "*") {
      this.viewers.clear();
      return;
    }
    for (const [subject, kept] of this.viewers) if (kept.viewer.staffId === payload) this.viewers.delete(subject);
  }
}

export async function authenticate(db: Db, verifier: TokenVerifier, header: string | undefined, cache?: ViewerCache): Promise<Viewer | null> {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return null;
  const credential = m[1];
  try {
    if (isApiKey(credential)) return await loadApiClientViewer(db, credential);
    const claims = await verifier.verify(credential);
    const kept = cache?.get(claims.sub);
    if (kept) return kept;
    const mark = cache?.mark() ?? 0;
    const viewer = await loadViewer(db, claims.sub);
    if (viewer) cache?.set(claims.sub, viewer, mark);
    return viewer;
  } catch (err) {
    // Not the caller's fault: SERVICE_UNAVAILABLE (503, retry) rather than UNAUTHENTICATED.
    if (isDatabaseUnavailable(err)) throw serviceUnavailable();
    return null;
  }
}
