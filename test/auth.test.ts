// Production authentication: RS256 tokens verified against the identity provider's JWKS, with
// issuer and audience checked. The JWKS is served over real HTTP on loopback.
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { createApp, type App } from "../src/server.js";
import { ensureBootstrapAdmin } from "../src/staff/staff.service.js";
import { openTestDatabase, type TestDatabase } from "./support/database.js";

const ISSUER = "https://idp.example.test/";
const AUDIENCE = "recovery-groups-api";
const SUBJECT = "admin@idp.test";

let jwksServer: Server;
let app: App;
let database: TestDatabase;
let apiUrl: string;
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let signingKey: PrivateKey;
let otherKey: PrivateKey;

async function sign(claims: { iss?: string; aud?: string; sub?: string; exp?: string | null }, key = signingKey, kid = "k1") {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: "RS256", kid }).setIssuedAt();
  if (claims.exp !== null) jwt = jwt.setExpirationTime(claims.exp ?? "10m");
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (claims.iss !== undefined) jwt = jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt = jwt.setAudience(claims.aud);
  return jwt.sign(key);
}

async function viewerWith(token: string) {
  const res = await fetch(`${apiUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ viewer { email isOrgAdmin } }" }),
  });
  return (await res.json()) as { data: { viewer: { email: string } } | null; errors?: Array<{ extensions: { code: string } }> };
}

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwksServer = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
  const jwksPort = (jwksServer.address() as { port: number }).port;
  database = await openTestDatabase();
  await ensureBootstrapAdmin(database.db, SUBJECT);
  const config = loadConfig({
    AUTH_JWKS_URL: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
  });
  app = await createApp({ config, database, logger: silentLogger });
  apiUrl = `http://127.0.0.1:${await app.listen(0, "127.0.0.1")}`;
});

afterAll(async () => {
  await app?.close();
  await database?.close();
  await new Promise((r) => jwksServer?.close(r));
});

describe("authentication with a JWKS", () => {
  it("accepts an RS256 token from the identity provider with the right issuer and audience", async () => {
    const res = await viewerWith(await sign({ iss: ISSUER, aud: AUDIENCE, sub: SUBJECT }));
    expect(res.errors).toBeUndefined();
    expect(res.data?.viewer).toEqual({ email: SUBJECT, isOrgAdmin: true });
  });

  it.each([
    ["another audience", { iss: ISSUER, aud: "someone-else", sub: SUBJECT }],
    ["another issuer", { iss: "https://evil.test/", aud: AUDIENCE, sub: SUBJECT }],
    ["no subject", { iss: ISSUER, aud: AUDIENCE }],
    ["an unknown subject", { iss: ISSUER, aud: AUDIENCE, sub: "nobody@idp.test" }],
    ["an expired token", { iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, exp: "-1m" }],
    ["a token that never expires (no exp)", { iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, exp: null }],
  ])("refuses %s as UNAUTHENTICATED", async (_name, claims) => {
    const res = await viewerWith(await sign(claims));
    expect(res.data).toBeNull();
    expect(res.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("refuses a token signed by a key that is not in the JWKS", async () => {
    const res = await viewerWith(await sign({ iss: ISSUER, aud: AUDIENCE, sub: SUBJECT }, otherKey));
    expect(res.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
  });

  it("refuses an HS256 token when a JWKS is configured", async () => {
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(SUBJECT)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("dev-secret-change-me-dev-secret-change-me"));
    const res = await viewerWith(hs);
    expect(res.errors?.[0].extensions.code).toBe("UNAUTHENTICATED");
  });
});

describe("auth configuration", () => {
  it("refuses to start in production without AUTH_JWKS_URL or AUTH_JWT_SECRET", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/AUTH_JWKS_URL/);
  });

  it("refuses a JWKS URL without issuer and audience", () => {
    expect(() => loadConfig({ AUTH_JWKS_URL: "https://idp.example.test/jwks" })).toThrow(/AUTH_ISSUER/);
  });
});
