// While the database is unreachable, a request answers HTTP 503 with Retry-After and the
// SERVICE_UNAVAILABLE error (src/common/errors.ts), whichever resolver met the outage.
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { Codes, RETRY_AFTER_SECONDS } from "./codes.js";

export function databaseUnavailablePlugin(): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ response }) {
          const body = response.body;
          const errors = body.kind === "single" ? body.singleResult.errors : body.initialResult.errors;
          if (errors?.some((e) => e.extensions?.code === Codes.SERVICE_UNAVAILABLE)) {
            response.http.status = 503;
            response.http.headers.set("retry-after", String(RETRY_AFTER_SECONDS));
          }
          return Promise.resolve();
        },
      });
    },
  };
}
