// Bearer-token verification: HS256 with AUTH_JWT_SECRET (development, tests), or a JWKS with
// issuer and audience (production). The `sub` claim names a staff member's authSubject.
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { systemClock } from "../common/clock.js";
import type { AuthConfig } from "../config.js";

export interface TokenVerifier {
  verify(token: string): Promise<JWTPayload & { sub: string }>;
}

/** What an identity provider signs with; never HS* (a shared secret) nor "none". */
const ASYMMETRIC = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];
/** Seconds of clock skew allowed on exp/nbf/iat. A token without exp is refused: it would never end. */
const CLOCK_TOLERANCE = 30;
/** Default longest lifetime of a token (AUTH_MAX_TOKEN_LIFETIME_SECONDS). */
const MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/**
 * Claims jose leaves to us: `sub` a non-empty string, `iat` not in the future (beyond the
 * tolerance), and a lifetime (exp - iat, or exp - now without iat) of at most `maxLifetime`.
 */
function checkClaims(payload: JWTPayload, now: Date, maxLifetime: number): JWTPayload & { sub: string } {
  if (typeof payload.sub !== "string" || payload.sub === "") throw new Error("token sub is not a string");
  const nowSec = Math.floor(now.getTime() / 1000);
  if (typeof payload.exp !== "number") throw new Error("token has no exp");
  if (payload.iat !== undefined) {
    if (typeof payload.iat !== "number" || !Number.isFinite(payload.iat)) throw new Error("token iat is not a number");
    if (payload.iat > nowSec + CLOCK_TOLERANCE) throw new Error("token issued in the future");
  }
  const from = payload.iat ?? nowSec;
  if (payload.exp - from > maxLifetime) throw new Error("token lives too long");
  return payload as JWTPayload & { sub: string };
}

export function createTokenVerifier(auth: AuthConfig): TokenVerifier {
  const maxLifetime = auth.maxTokenLifetimeSeconds ?? MAX_TOKEN_LIFETIME_SECONDS;
  if (auth.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(auth.jwksUrl));
    return {
      async verify(token) {
        const now = systemClock.now();
        const { payload } = await jwtVerify(token, jwks, {
          issuer: auth.issuer,
          audience: auth.audience,
          algorithms: ASYMMETRIC,
          requiredClaims: ["sub", "exp"],
          clockTolerance: CLOCK_TOLERANCE,
          currentDate: now,
        });
        return checkClaims(payload, now, maxLifetime);
      },
    };
  }
  const key = new TextEncoder().encode(auth.jwtSecret);
  return {
    async verify(token) {
      const now = systemClock.now();
      const { payload } = await jwtVerify(token, key, {
        algorithms: ["HS256"],
        issuer: auth.issuer,
        audience: auth.audience,
        requiredClaims: ["sub", "exp"],
        clockTolerance: CLOCK_TOLERANCE,
        currentDate: now,
      });
      return checkClaims(payload, now, maxLifetime);
    },
  };
}

/** Mints an HS256 token for development and tests. */
export async function mintToken(auth: AuthConfig, subject: string, opts: { expiresIn?: string; email?: string } = {}): Promise<string> {
  if (!auth.jwtSecret) throw new Error("minting needs AUTH_JWT_SECRET");
  let jwt = new SignJWT(opts.email ? { email: opts.email } : {})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(opts.expiresIn ?? "12h");
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  return jwt.sign(new TextEncoder().encode(auth.jwtSecret));
}
