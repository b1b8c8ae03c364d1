// Writes a request's audit entries once, at its end, in one statement (Apollo's willSendResponse),
// sent with the COMMIT of the request's transaction (src/db/scope.ts) in one round trip: a read
// costs at most one more statement, and none when it touched no participant data (its COMMIT
// still precedes the answer).
// A query whose entries cannot be written is answered with an internal error instead of its data
// (nothing is disclosed unrecorded); a mutation has already committed, so its answer stands and
// the failure is logged, unless its write was held for this commit (DbScope.holdNextTransaction:
// recordAttendance), which then rolled back with its entries: it is answered with the error too.
import type { ApolloServerPlugin, BaseContext, GraphQLResponse } from "@apollo/server";
import { Kind, OperationTypeNode, type OperationDefinitionNode } from "graphql";
import type { Context } from "../common/context.js";
import { Codes } from "../common/codes.js";
import { pgErrorOf } from "../common/errors.js";
import type { Logger } from "../logger.js";
import { appendTouches } from "./audit.service.js";

/**
 * The GraphQL operationName when given, else the root fields asked for: what the audit log and
 * the request log (src/server.ts) name a request by.
 */
export function operationNameOf(operationName: string | null | undefined, operation: OperationDefinitionNode | undefined): string | null {
  if (operationName) return operationName.slice(0, 200);
  const fields = (operation?.selectionSet.selections ?? [])
    .filter((s) => s.kind === Kind.FIELD && !s.name.value.startsWith("__"))
    .map((s) => (s.kind === Kind.FIELD ? s.name.value : ""));
  return fields.length ? [...new Set(fields)].join(",").slice(0, 200) : null;
}

/** Replaces the answer with an internal error (nothing of it is sent). */
function internalError(context: Context, response: GraphQLResponse): void {
  if (response.body.kind !== "single") return;
  response.http.status = 500;
  response.body.singleResult = {
    errors: [{ message: "Internal server error", extensions: { code: Codes.INTERNAL_SERVER_ERROR, requestId: context.requestId } }],
  };
}

export function auditPlugin(logger: Logger): ApolloServerPlugin<Context & BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ contextValue, operation }) {
          // A mutation's writes commit before it is answered, whatever becomes of its audit entries.
          if (operation?.operation === OperationTypeNode.MUTATION) contextValue.scope?.commitEachStatement();
          return Promise.resolve();
        },
        async willSendResponse({ contextValue, request, operation, response }) {
          const access = contextValue?.access;
          if (!access) return;
          if (access.touches.length === 0) {
            // A request that touched no participant data commits too before it is answered: what it
            // wrote in its own transaction (a feed page's accounting of disclosures) is in before the
            // answer. If a statement of it failed (its transaction ended with it), that failure is
            // already in the answer, as the field's error: the rest of the answer stands.
            await contextValue.scope?.commit().catch((err: unknown) => {
              logger.warn(
                { requestId: contextValue.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code },
                "request transaction not committed",
              );
              if (contextValue.scope?.heldWrite) internalError(contextValue, response);
            });
            return;
          }
          try {
            // The entries and the COMMIT of the request's transaction (its reads, then them) go out
            // together: one round trip, and the answer leaves only once both are in.
            await Promise.all([
              appendTouches(contextValue.db, access.touches, {
                viewer: contextValue.viewer,
                operationName: operationNameOf(request.operationName, operation ?? undefined),
                requestId: contextValue.requestId ?? null,
                clientAddress: contextValue.clientAddress ?? null,
              }),
              contextValue.scope?.commit(),
            ]);
          } catch (err) {
            logger.error({ requestId: contextValue.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code }, "audit write failed");
            if (operation?.operation !== OperationTypeNode.MUTATION || contextValue.scope?.heldWrite) internalError(contextValue, response);
          }
        },
      });
    },
  };
}
