// The catalog of error codes (src/common/codes.ts) is the one source: the docs' tables are written
// from it, and what the server and the audit log do with a code is read from it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, passThroughCodes, refusalCodes, USER_ERROR_CODES } from "../src/common/codes.js";
import { UserErrorCode } from "../src/common/errors.js";
import { errorsDoc, withTables } from "../src/scripts/error-codes.js";

describe("the catalog of error codes", () => {
  it("docs/errors.md shows exactly the catalog's codes (regenerate with npm run docs:codes)", () => {
    const doc = readFileSync(errorsDoc, "utf8");
    expect(withTables(doc)).toBe(doc);
    for (const code of [...Object.keys(ERROR_CODES), ...Object.keys(USER_ERROR_CODES)]) expect(doc).toContain(`| \`${code}\` |`);
  });

  it("gives every value of the GraphQL enum UserErrorCode a meaning, and no other", () => {
    expect(Object.keys(USER_ERROR_CODES).sort()).toEqual(Object.values(UserErrorCode).sort());
  });

  it("lets through to clients every code but the masked INTERNAL_SERVER_ERROR", () => {
    expect(passThroughCodes.has("INTERNAL_SERVER_ERROR")).toBe(false);
    expect([...passThroughCodes].sort()).toEqual(
      Object.keys(ERROR_CODES)
        .filter((c) => c !== "INTERNAL_SERVER_ERROR")
        .sort(),
    );
  });

  it("counts UNAUTHENTICATED, FORBIDDEN and NOT_FOUND as refusals for the audit log, nothing else", () => {
    expect([...refusalCodes].sort()).toEqual(["FORBIDDEN", "NOT_FOUND", "UNAUTHENTICATED"]);
  });
});
