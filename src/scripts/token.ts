// Mints a development token for a staff member: `npm run token -- admin@example.org`.
// Uses AUTH_JWT_SECRET (or the development default) and the database the server uses.
import "reflect-metadata";
import { sql } from "drizzle-orm";
import { mintToken } from "../auth/tokens.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { staff } from "../db/schema.js";

const email = process.argv[2];
if (!email) {
  console.error("usage: npm run token -- <staff email> [--expires 12h]");
  process.exit(2);
}
const expiresIdx = process.argv.indexOf("--expires");
const expiresIn = expiresIdx > 0 ? process.argv[expiresIdx + 1] : "12h";
const config = loadConfig();
if (!config.auth.jwtSecret) {
  console.error("minting needs AUTH_JWT_SECRET (production tokens come from your identity provider)");
  process.exit(2);
}
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
try {
  const [row] = await database.db
    .select({ authSubject: staff.authSubject, status: staff.status })
    .from(staff)
    .where(sql`lower(${staff.email}) = lower(${email})`);
  if (!row) {
    console.error(`no staff member with email ${email} (set BOOTSTRAP_ADMIN_EMAIL or run npm run seed)`);
    process.exitCode = 1;
  } else {
    console.log(await mintToken(config.auth, row.authSubject, { expiresIn }));
  }
} finally {
  await database.close();
}
