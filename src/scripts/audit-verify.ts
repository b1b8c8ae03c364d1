// Checks the audit log: `npm run audit:verify`. Walks the hash chain in order, checks every
// checkpoint's signature (with the public key of AUDIT_SIGNING_KEY, or the keys of AUDIT_VERIFY_KEY)
// and that the chain still has its hash at its position; and, given an exported checkpoint
// (`--checkpoint <file or JSON>`), that nothing up to it changed. Exits 0 saying what holds, or 1
// naming the first broken link or bad checkpoint.
//   npm run audit:verify
//   npm run audit:verify -- --checkpoint checkpoint.json
//   npm run audit:verify -- --export-checkpoint > checkpoint.json   (the latest checkpoint, as JSON)
import "reflect-metadata";
import { existsSync, readFileSync } from "node:fs";
import { latestCheckpoint, loadSigningKey, loadVerifyKeys, verifyAuditLog, type Checkpoint } from "../audit/audit.checkpoint.js";
import { loadConfig } from "../config.js";
import { openDatabase } from "../db/client.js";
import { runScript } from "./script.js";

function parseCheckpoint(arg: string): Checkpoint {
  const text = existsSync(arg) ? readFileSync(arg, "utf8") : arg;
  const cp = JSON.parse(text) as Partial<Checkpoint>;
  if (!Number.isInteger(cp.chainSeq) || typeof cp.hash !== "string" || typeof cp.createdAt !== "string") {
    throw new Error("a checkpoint is JSON with chainSeq, hash, createdAt (and keyId, signature), as --export-checkpoint prints");
  }
  return { chainSeq: cp.chainSeq!, hash: cp.hash, createdAt: cp.createdAt, keyId: cp.keyId ?? null, signature: cp.signature ?? null };
}

await runScript("audit:verify", async () => {
  const args = process.argv.slice(2);
  const config = loadConfig();
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    if (args.includes("--export-checkpoint")) {
      const cp = await latestCheckpoint(database.db);
      if (!cp) {
        console.error("audit:verify: no checkpoint yet");
        process.exitCode = 1;
      } else console.log(JSON.stringify(cp));
      return;
    }
    const at = args.indexOf("--checkpoint");
    const exported = at >= 0 ? parseCheckpoint(args[at + 1] ?? "") : undefined;
    const keys = loadVerifyKeys(config.audit.verifyKeys);
    const own = loadSigningKey(config.audit.signingKey);
    if (own) keys.set(own.keyId, own.publicKey);
    const report = await verifyAuditLog(database.db, keys, exported);
    let ok = true;
    if (report.broken) {
      const { chainSeq, id, reason } = report.broken;
      console.error(`audit:verify: broken link at chain position ${chainSeq} (id ${id}): ${reason}; ${report.checked} entries before it hold`);
      ok = false;
    }
    if (report.badCheckpoint) {
      console.error(`audit:verify: bad checkpoint at chain position ${report.badCheckpoint.chainSeq}: ${report.badCheckpoint.reason}`);
      ok = false;
    }
    if (report.exported && !report.exported.ok) {
      console.error(`audit:verify: the exported checkpoint at chain position ${report.exported.chainSeq} does not hold: ${report.exported.reason}`);
      ok = false;
    }
    if (!ok) {
      process.exitCode = 1;
      return;
    }
    const { checked, unsigned } = report.checkpoints;
    console.log(
      `audit:verify: the chain holds (${report.checked} entries); ${checked} checkpoints hold` +
        (unsigned ? ` (${unsigned} unsigned)` : "") +
        (keys.size ? "" : " (no key given: signatures not checked)") +
        (report.exported ? `; the exported checkpoint at chain position ${report.exported.chainSeq} holds` : ""),
    );
  } finally {
    await database.close();
  }
});
