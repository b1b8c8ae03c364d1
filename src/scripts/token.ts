// Mints a development token for a staff member: `npm run token -- admin@example.org`.
// Uses AUTH_JWT_SECRET (or the development default) and the database the server uses, to check
// that the staff member exists. A token needs only the secret: when the embedded database is in
// use by the running server, it mints anyway (for the lower-cased email) and says it could not check.
import "reflect-metadata";
import { sql } from "drizzle-orm";
import { mintToken } from "../auth/tokens.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { DatabaseBusyError } from "../db/lock.js";
import { staff } from "../db/schema.js";
import { runScript } from "./script.js";

await runScript("token", async () => {
  const email = process.argv[2];
  if (!email || email.startsWith("-")) {
    console.error("usage: npm run token -- <staff email> [--expires 12h]");
    process.exitCode = 2;
    return;
  }
  const expiresIdx = process.argv.indexOf("--expires");
  const expiresIn = expiresIdx > 0 ? process.argv[expiresIdx + 1] : "12h";
  const config = loadConfig();
  if (!config.auth.jwtSecret) {
    console.error("token: minting needs AUTH_JWT_SECRET (production tokens come from your identity provider)");
    process.exitCode = 2;
    return;
  }
  let database;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrationUrl: config.databaseMigrationUrl });
  } catch (err) {
    if (!(err instanceof DatabaseBusyError)) throw err;
    // The subject is the staff member's authSubject: by default their lower-cased email.
    console.error(`token: could not check that ${email} is a staff member (${err.message.split(". ")[0]}); minted for subject ${email.trim().toLowerCase()}`);
    console.log(await mintToken(config.auth, email.trim().toLowerCase(), { expiresIn }));
    return;
  }
  try {
    const [row] = await database.db
      .select({ authSubject: staff.authSubject, status: staff.status })
      .from(staff)
      .where(sql`lower(${staff.email}) = lower(${email.trim()})`);
    if (!row) {
      console.error(`token: no staff member with email ${email} (set BOOTSTRAP_ADMIN_EMAIL or run npm run seed)`);
      process.exitCode = 1;
    } else {
      if (row.status !== "ACTIVE") console.error(`token: ${email} is ${row.status}; the API refuses their token`);
      console.log(await mintToken(config.auth, row.authSubject, { expiresIn }));
    }
  } finally {
    await database.close();
  }
});
