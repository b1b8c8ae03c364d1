// Configuration from the environment, read once at start-up.
export interface AuthConfig {
  /** HS256 secret for development and tests. */
  jwtSecret?: string;
  /** Production: a JWKS URL, with the issuer and audience the tokens must carry. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl?: string;
  dataDir: string;
  databasePoolSize: number;
  auth: AuthConfig;
  bootstrapAdminEmail?: string;
  logLevel: "debug" | "info" | "warn" | "error";
  introspection: boolean;
  /** GraphiQL at GET /graphql for browsers (src/graphiql.ts). */
  graphiql: boolean;
}

function intFrom(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const auth: AuthConfig = {
    jwtSecret: env.AUTH_JWT_SECRET || undefined,
    jwksUrl: env.AUTH_JWKS_URL || undefined,
    issuer: env.AUTH_ISSUER || undefined,
    audience: env.AUTH_AUDIENCE || undefined,
  };
  if (auth.jwksUrl && (!auth.issuer || !auth.audience)) {
    throw new Error("AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE");
  }
  const production = env.NODE_ENV === "production";
  if (!auth.jwtSecret && !auth.jwksUrl) {
    if (production) throw new Error("set AUTH_JWKS_URL (or AUTH_JWT_SECRET) in production");
    // Development default so that `npm start` works on a fresh machine; documented in the README.
    auth.jwtSecret = "dev-secret-change-me-dev-secret-change-me";
  }
  return {
    port: intFrom(env.PORT, 4000, "PORT"),
    host: env.HOST || "0.0.0.0",
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || "./data",
    databasePoolSize: intFrom(env.DATABASE_POOL_SIZE, 10, "DATABASE_POOL_SIZE"),
    auth,
    bootstrapAdminEmail: env.BOOTSTRAP_ADMIN_EMAIL || undefined,
    logLevel: (["debug", "info", "warn", "error"].includes(env.LOG_LEVEL ?? "") ? env.LOG_LEVEL : "info") as Config["logLevel"],
    introspection: env.GRAPHQL_INTROSPECTION ? env.GRAPHQL_INTROSPECTION === "true" : !production,
    graphiql: env.GRAPHIQL ? env.GRAPHIQL === "true" : !production,
  };
}
