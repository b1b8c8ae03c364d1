// Serves a feed page compiled to one statement (feed.plan.ts) before graphql-js would resolve its
// edges (Apollo's responseForOperation), and hands the page's JSON text, as PostgreSQL built it, to
// the response without parsing it: the answer carries a placeholder where the page goes, which
// spliceFeedPage (called on the response body by src/server.ts) replaces with the text, sent in
// parts (the answer's halves and the page, never joined into one string). What the
// compiler leaves (feed.plan.ts), and a statement that fails, is answered by the resolvers
// (readFeed), as before. The audit entries are the resolvers' (a READ of each record handed out,
// and of its participant when asked for), recorded through Access.touch and written by the audit
// plugin before the answer leaves (a page whose entries cannot be written answers 500 with no
// data); the disclosures row is written by the page's own statement.
import { randomUUID } from "node:crypto";
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { stopWhenCancelled } from "../common/abort.js";
import { clock } from "../common/clock.js";
import type { Context } from "../common/context.js";
import { pgErrorOf } from "../common/errors.js";
import { rowsOf } from "../common/sql.js";
import { GiveUp } from "../compiled/compiled.plan.js";
import { closeEndedConsentsOf } from "../consents/consent.service.js";
import type { Logger } from "../logger.js";
import { compileFeedPage, type FeedPlan } from "./feed.plan.js";

/** Pages waiting for their response body, by request id (dropped when the request ends, whatever happens). */
const pending = new Map<string, { token: string; text: string }>();

/** A response body sent in parts, the page's text between the answer's two halves (never joined into one string). */
export interface SplicedBody {
  parts: [before: string, page: string, after: string];
  /** The body's length in bytes (UTF-8), for Content-Length. */
  bytes: number;
}

/**
 * The response body with the request's page in place of its placeholder, as parts to write one
 * after the other (src/server.ts streams them): joining them would build, per page, one more
 * string as large as the page, which outlives the young generation and piles up in V8's
 * large-object space until a major collection (docs/performance.md, "Memory"). A body without the
 * placeholder (an answer replaced by an error) is returned as it is. Forgets the page either way.
 */
export function spliceFeedPage(requestId: string, body: unknown): unknown {
  const page = pending.get(requestId);
  if (!page) return body;
  pending.delete(requestId);
  if (typeof body !== "string") return body;
  const at = body.indexOf(page.token);
  if (at < 0) return body;
  const parts: SplicedBody["parts"] = [body.slice(0, at), page.text, body.slice(at + page.token.length)];
  return { parts, bytes: parts.reduce((n, part) => n + Buffer.byteLength(part), 0) } satisfies SplicedBody;
}

export function isSplicedBody(body: unknown): body is SplicedBody {
  return typeof body === "object" && body !== null && Array.isArray((body as SplicedBody).parts) && typeof (body as SplicedBody).bytes === "number";
}

/** Forgets a request's page (its end, in any case). */
export function dropFeedPage(requestId: string): void {
  pending.delete(requestId);
}

/** The READs of one center's resources of a type: [center id, the resource's id when it is the center's only one, its participants]. */
type CenterReads = [centerId: string, onlyId: string | null, participantIds: string[]];

/** Runs the page: closes the consents that ended (their DELETEs commit first, as readFeed does), then the one statement. */
async function runPage(ctx: Context, plan: FeedPlan): Promise<{ page: string; records: CenterReads[]; participants: CenterReads[] }> {
  const client = ctx.access.requireApiClientFeed();
  await closeEndedConsentsOf(ctx.db, client.apiClientId, plan.now);
  const [row] = await rowsOf<{ page: string; records: string; participants: string }>(ctx.db, plan.statement);
  return { page: row.page, records: JSON.parse(row.records) as CenterReads[], participants: JSON.parse(row.participants) as CenterReads[] };
}

/**
 * The READs of a type's resources handed out, as the audit log records them (src/audit/audit.service.ts,
 * entriesOf: one entry per type and center, naming the resource when it is the only one, with every
 * participant): one touch per center, grouped by the page's statement, the same entries as a touch
 * per resource (2,000 a page, each a key built and looked up by Access.touch, then by entriesOf).
 */
function touchAll(ctx: Context, resourceType: string, reads: CenterReads[]): void {
  for (const [centerId, onlyId, participantIds] of reads)
    ctx.access.touch({ action: "READ", outcome: "ALLOWED", resourceType, resourceId: onlyId, centerId, participantIds });
}

export function feedPagesPlugin(options: { enabled: boolean; logger: Logger }): ApolloServerPlugin<Context & BaseContext> {
  return {
    requestDidStart() {
      if (!options.enabled) return Promise.resolve();
      return Promise.resolve({
        async responseForOperation({ contextValue: ctx, document, operation, request, schema }) {
          const client = ctx.viewer?.kind === "apiClient" ? ctx.viewer : null;
          if (!client) return null;
          const plan = compileFeedPage(schema, document, operation, request.variables, client, clock.now());
          if (plan instanceof GiveUp) {
            options.logger.debug({ requestId: ctx.requestId, reason: plan.reason }, "feed page not compiled");
            return null;
          }
          let answer: Awaited<ReturnType<typeof runPage>>;
          try {
            stopWhenCancelled(ctx);
            answer = await runPage(ctx, plan);
            // Past the deadline (or the client gone) while it ran: nothing is handed out, nor recorded as read.
            stopWhenCancelled(ctx);
          } catch (err) {
            if (ctx.lifetime?.stopped) return { http: { status: 503, headers: new HeaderMap() }, body: { kind: "single", singleResult: { data: null } } };
            // The resolvers meet the same trouble and answer it as usual; the log gets its kind only.
            options.logger.warn(
              { requestId: ctx.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code },
              "feed page failed; answered by the resolvers",
            );
            return null;
          }
          // What the resolvers' audit wrappers record of the same page: each record handed out, then its participant.
          if (plan.readsRecords) {
            touchAll(ctx, "Attendance", answer.records);
            if (plan.readsParticipants) touchAll(ctx, "Participant", answer.participants);
          }
          const token = `\u0000feed-page:${randomUUID()}`;
          pending.set(ctx.requestId, { token: JSON.stringify(token), text: answer.page });
          const data: Record<string, unknown> = {};
          for (const { key, typename } of plan.roots) data[key] = typename ?? token;
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: "single", singleResult: { data } } };
        },
      });
    },
  };
}
