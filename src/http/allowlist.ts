// Allow-list mode (ALLOWLIST=on): only the dashboard's own operations are answered. The manifest
// (npm run allowlist, from test/operations/*.graphql) lists the SHA-256 of each operation's
// printed document (graphql-js `print`, so whitespace and comments do not matter); a request whose
// document prints to none of them is refused with OPERATION_NOT_ALLOWED (HTTP 400) once parsed,
// before execution, so it costs no database work.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { GraphQLError, print } from "graphql";
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

export function allowlistPlugin(manifest: Manifest): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document }) {
          if (manifest.hashes.has(documentHash(print(document)))) return Promise.resolve();
          return Promise.reject(
            new GraphQLError("Only the registered operations are accepted", {
              extensions: { code: Codes.OPERATION_NOT_ALLOWED, http: { status: statusOf(Codes.OPERATION_NOT_ALLOWED) } },
            }),
          );
        },
      });
    },
  };
}
