// Walks the audit log's hash chain: `npm run audit:verify`. Prints how many entries hold and exits
// 0, or names the first broken link (its seq and id, and why) and exits 1.
import "reflect-metadata";
import { verifyAuditChain } from "../audit/audit.service.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { runScript } from "./script.js";

await runScript("audit:verify", async () => {
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const report = await verifyAuditChain(database.db);
    if (report.broken) {
      const { seq, id, reason } = report.broken;
      console.error(`audit:verify: broken link at entry seq ${seq} (id ${id}): ${reason}; ${report.checked} entries before it hold`);
      process.exitCode = 1;
    } else {
      console.log(`audit:verify: the chain holds (${report.checked} entries)`);
    }
  } finally {
    await database.close();
  }
});
