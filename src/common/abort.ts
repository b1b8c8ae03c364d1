// Cancelling a request: graphql-js cannot stop an execution, so every request carries an
// AbortSignal (in its context) that fires when the client disconnects or its time is up, and a
// wrapper around every resolver that may load (src/common/field-wrapper.ts) checks it before the field resolves. Once
// it fires no further resolver runs,
// so no further database work starts; the statement already sent finishes on its own.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { GraphQLError } from "graphql";
import { clock } from "./clock.js";

export const REQUEST_TIMEOUT = "REQUEST_TIMEOUT";

type AbortReason = "timeout" | "disconnected";

export interface RequestLifetime {
  signal: AbortSignal;
  /** Epoch ms (read from the clock) after which the request is cancelled; Infinity without limit. */
  deadline: number;
  /** Set once a resolver was refused because the request was cancelled. */
  stopped: boolean;
  /** Stops watching (the response is sent). */
  dispose(): void;
}

/**
 * Watches one HTTP exchange: aborts when the connection closes before the response is finished,
 * or when `timeoutMs` (0 = never) has passed.
 */
export function watchRequest(req: IncomingMessage, res: ServerResponse, timeoutMs: number): RequestLifetime {
  const controller = new AbortController();
  const abort = (reason: AbortReason) => {
    if (!controller.signal.aborted) controller.abort(reason);
  };
  const onClose = () => {
    if (!res.writableFinished) abort("disconnected");
  };
  res.on("close", onClose);
  const timer = timeoutMs > 0 ? setTimeout(() => abort("timeout"), timeoutMs) : undefined;
  timer?.unref();
  void req;
  return {
    signal: controller.signal,
    stopped: false,
    deadline: timeoutMs > 0 ? clock.now().getTime() + timeoutMs : Infinity,
    dispose() {
      if (timer) clearTimeout(timer);
      res.off("close", onClose);
    },
  };
}

function requestTimedOut(): GraphQLError {
  return new GraphQLError("The request took too long and was cancelled", {
    extensions: { code: REQUEST_TIMEOUT, http: { status: 503 } },
  });
}

export interface Cancellable {
  lifetime?: Pick<RequestLifetime, "signal" | "deadline" | "stopped">;
}

/** Whether the request is cancelled: aborted, or past its deadline by the clock. */
function isCancelled(ctx: Cancellable | undefined): boolean {
  const l = ctx?.lifetime;
  if (!l) return false;
  if (l.signal.aborted) return true;
  return l.deadline !== Infinity && clock.now().getTime() > l.deadline;
}

/** Throws REQUEST_TIMEOUT when the request is cancelled (called before every field resolves). */
export function stopWhenCancelled(context: Cancellable | undefined): void {
  if (isCancelled(context)) {
    context!.lifetime!.stopped = true;
    throw requestTimedOut();
  }
}

/**
 * A cancelled request answers one REQUEST_TIMEOUT error (HTTP 503) rather than the partial data
 * and one error per field that did not run.
 */
export function cancellationPlugin(): ApolloServerPlugin<BaseContext & Cancellable> {
  return {
    // Apollo's hooks return promises; these have nothing to wait for.
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ contextValue, response }) {
          if (contextValue.lifetime?.stopped) {
            const error = requestTimedOut();
            response.body = { kind: "single", singleResult: { errors: [{ message: error.message, extensions: { code: REQUEST_TIMEOUT } }] } };
            response.http.status = 503;
          }
          return Promise.resolve();
        },
      });
    },
  };
}
