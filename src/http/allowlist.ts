// Allow-list mode (ALLOWLIST=on): only the dashboard's own operations are answered. The manifest
// (npm run allowlist, from test/operations/*.graphql) lists the SHA-256 of each operation's
// printed document (graphql-js `print`, so whitespace and comments do not matter); a request whose
// document prints to none of them is refused with OPERATION_NOT_ALLOWED (HTTP 400) once parsed,
// before execution, so it costs no database work. Subscriptions over WebSocket are held to the same
// manifest (src/live/live.socket.ts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { GraphQLError, print, type DocumentNode } from "graphql";
import { Codes, statusOf } from "../common/codes.js";

export interface ManifestFile {
  version: 1;
  operations: Array<{ name: string; sha256: string; file: string }>;
}

export interface Manifest {
  hashes: Set<string>;
  names: Set<string>;
}

export function documentHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function loadManifest(path: string): Manifest {
  const file = JSON.parse(readFileSync(path, "utf8")) as ManifestFile;
  return { hashes: new Set(file.operations.map((o) => o.sha256)), names: new Set(file.operations.map((o) => o.name)) };
}

/** Null when the document is in the manifest, else the refusal (OPERATION_NOT_ALLOWED): over HTTP (below) and WebSocket (src/live). */
export function notAllowed(manifest: Manifest, document: DocumentNode): GraphQLError | null {
  if (manifest.hashes.has(documentHash(print(document)))) return null;
  return new GraphQLError("Only the registered operations are accepted", {
    extensions: { code: Codes.OPERATION_NOT_ALLOWED, http: { status: statusOf(Codes.OPERATION_NOT_ALLOWED) } },
  });
}

export function allowlistPlugin(manifest: Manifest): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document }) {
          const refusal = notAllowed(manifest, document);
          return refusal ? Promise.reject(refusal) : Promise.resolve();
        },
      });
    },
  };
}
