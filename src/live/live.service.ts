// The live roster's stream for one subscription (docs/live.md): the current roster first, then one
// event per change of the session, each after the viewer has been authorized again.
import { GraphQLError } from "graphql";
import { requireRecordsOf } from "../attendance/attendance.service.js";
import { Codes, refusalCodes } from "../common/codes.js";
import { decodeId } from "../common/ids.js";
import type { Context } from "../common/context.js";
import { badInput, forbidden, UserInputError } from "../common/errors.js";
import type { SessionRow } from "../db/schema.js";
import { findVisibleSession } from "../sessions/session.service.js";
import type { RosterBus } from "./live.bus.js";

/** What the WebSocket endpoint (src/live/live.socket.ts) adds to a subscription's context. */
interface LiveState {
  bus: RosterBus;
  /**
   * Authenticates the connection's token again and gives the context a fresh viewer, access,
   * database scope and loaders (the previous event's scope released). Throws UNAUTHENTICATED when
   * the token expired or its staff member is gone.
   */
  renew(): Promise<void>;
}

export interface LiveContext extends Context {
  live: LiveState;
}

/** One event: the session whose roster to send, and what changed (null for the first, current roster). */
export interface RosterEvent {
  session: SessionRow;
  change: { participantIds: string[] } | null;
}

function liveOf(ctx: Context): LiveState {
  const live = (ctx as Partial<LiveContext>).live;
  if (!live) throw badInput("Subscriptions are served over WebSocket at /graphql (graphql-ws protocol)");
  return live;
}

/**
 * The session, if the viewer may read its roster: out of reach reads as missing (NOT_FOUND, as
 * `node(id:)` answers for queries); a role that sees the session but not its members' records
 * (a VIEWER) is refused (FORBIDDEN), as `Session.roster` is.
 */
async function readableRoster(ctx: Context, sessionGlobalId: string): Promise<SessionRow> {
  try {
    const { session, group } = await findVisibleSession(ctx, sessionGlobalId, "sessionId");
    requireRecordsOf(ctx, group);
    return session;
  } catch (err) {
    if (err instanceof UserInputError) throw new GraphQLError("No session with that id", { extensions: { code: Codes.NOT_FOUND } });
    throw err;
  }
}

/**
 * A subscription refused at subscribe time (the session out of reach, or a role that may not read
 * its roster) is an attempt on participant data: recorded DENIED, naming the session asked for, as
 * `node(id:)` records a refused id. The endpoint writes it with the answer (src/live/live.socket.ts,
 * the audit log's one writer).
 */
function deniedAttempt(ctx: Context, sessionGlobalId: string, err: unknown): void {
  const code = (err as { extensions?: { code?: unknown } })?.extensions?.code;
  if (typeof code !== "string" || !refusalCodes.has(code)) return;
  ctx.access?.touch({
    action: "DENIED",
    outcome: "DENIED",
    resourceType: "Session",
    resourceId: decodeId(sessionGlobalId, "Session"),
    centerId: null,
    participantIds: [],
  });
}

/** Mid-stream, any refusal ends the stream as FORBIDDEN (an expired token as UNAUTHENTICATED). */
function asEnding(err: unknown): unknown {
  const code = (err as { extensions?: { code?: unknown } })?.extensions?.code;
  if (code === Codes.NOT_FOUND || code === Codes.FORBIDDEN) return forbidden("You may no longer read this session's roster");
  return err;
}

/**
 * `rosterChanged(sessionId)`'s source stream. Authorized before it opens (errors are the
 * subscription's answer); the feed is opened before the first roster is read, so a change that
 * commits in between is sent after it rather than lost.
 */
export async function rosterEvents(ctx: Context, sessionGlobalId: string): Promise<AsyncIterableIterator<RosterEvent>> {
  const live = liveOf(ctx);
  let session: SessionRow;
  try {
    session = await readableRoster(ctx, sessionGlobalId);
  } catch (err) {
    deniedAttempt(ctx, sessionGlobalId, err);
    throw err;
  }
  const feed = live.bus.open(session.id);
  let first = true;
  const iterator: AsyncIterableIterator<RosterEvent> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      if (first) {
        first = false;
        return { value: { session, change: null }, done: false };
      }
      try {
        const next = await feed.next();
        if (next.done) return { value: undefined, done: true };
        // Authorization again, for this event: the token, the staff member, their groups.
        await live.renew();
        const current = await readableRoster(ctx, sessionGlobalId);
        return { value: { session: current, change: { participantIds: next.value.participantIds } }, done: false };
      } catch (err) {
        feed.end();
        throw asEnding(err);
      }
    },
    return() {
      feed.end();
      return Promise.resolve({ value: undefined, done: true });
    },
  };
  return iterator;
}
