// Entry point: `npm start`. Opens the database (PGlite under DATA_DIR, or DATABASE_URL), applies
// migrations, creates the bootstrap admin if asked, and serves the API until SIGTERM/SIGINT.
import "reflect-metadata";
import { loadConfig } from "./config.js";
import { openDatabase, roleBypassesRls } from "./db/client.js";
import { createLogger } from "./logger.js";
import { createApp } from "./server.js";
import { ensureBootstrapAdmin } from "./staff/staff.service.js";

async function main() {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    statementTimeoutMs: config.limits.statementTimeoutMs,
    migrationUrl: config.databaseMigrationUrl,
    rls: config.databaseRls,
  });
  logger.info({ kind: database.kind, rls: database.rls }, "database ready");
  if (database.rls && (await roleBypassesRls(database.db))) {
    logger.warn("row-level security is bypassed: DATABASE_URL's role is a superuser or has BYPASSRLS (docs/operations.md, Row-level security)");
  }
  if (config.bootstrapAdminEmail) {
    const outcome = await ensureBootstrapAdmin(database.db, config.bootstrapAdminEmail);
    logger.info({ outcome }, "bootstrap admin");
  }
  const app = await createApp({ config, database, logger });
  const port = await app.listen(config.port, config.host);
  logger.info({ url: `http://localhost:${port}/graphql` }, "listening");

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    try {
      await app.close();
      await database.close();
      process.exit(0);
    } catch {
      process.exit(1);
    }
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

main().catch((err) => {
  // Start-up failures carry no request data; the message is safe to print.
  console.error("failed to start:", err instanceof Error ? err.message : err);
  process.exit(1);
});
