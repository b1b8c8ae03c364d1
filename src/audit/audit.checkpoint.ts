// Checkpoints of the audit chain: the chain's position and hash at an instant, signed with an
// Ed25519 key kept outside the database (AUDIT_SIGNING_KEY, node:crypto), so that whoever holds a
// copy of one (or the public key) can prove nothing up to it was changed, removed or re-chained,
// even by someone with the database owner's rights. Written by the sealer (audit.sealer.ts);
// checked by `npm run audit:verify` (verifyAuditLog).
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { desc, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { auditCheckpoints, auditEvents, type AuditCheckpointRow } from "../db/schema.js";
import { verifyAuditChain, type ChainReport } from "./audit.service.js";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** A checkpoint as exported and handed to `audit:verify --checkpoint`. */
export interface Checkpoint {
  chainSeq: number;
  hash: string;
  createdAt: string;
  keyId: string | null;
  signature: string | null;
}

/** PEM text (with real or escaped newlines), or base64 DER of one key. */
function keyInput<T extends "pkcs8" | "spki">(text: string, type: T): { key: string | Buffer; format: "pem" | "der"; type: T } {
  const trimmed = text.trim().replace(/\\n/g, "\n");
  if (trimmed.startsWith("-----BEGIN")) return { key: trimmed, format: "pem", type };
  return { key: Buffer.from(trimmed, "base64"), format: "der", type };
}

/** The key's id: the first 16 hex digits of sha256 of its public key (SPKI DER). */
const keyIdOf = (publicKey: KeyObject) =>
  createHash("sha256")
    .update(publicKey.export({ type: "spki", format: "der" }))
    .digest("hex")
    .slice(0, 16);

/** AUDIT_SIGNING_KEY: an Ed25519 private key; throws when it is something else. */
export function loadSigningKey(text: string | undefined): SigningKey | null {
  if (!text) return null;
  const privateKey = createPrivateKey(keyInput(text, "pkcs8"));
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error("AUDIT_SIGNING_KEY must be an Ed25519 private key");
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

/** AUDIT_VERIFY_KEY: one or more Ed25519 public keys (PEM blocks, or base64 DER separated by commas or spaces), by key id. */
export function loadVerifyKeys(text: string | undefined): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (!text) return keys;
  const unescaped = text.replace(/\\n/g, "\n");
  const pems = unescaped.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g);
  const parts = pems ?? unescaped.split(/[\s,]+/).filter(Boolean);
  for (const part of parts) {
    const key = createPublicKey(keyInput(part, "spki"));
    if (key.asymmetricKeyType !== "ed25519") throw new Error("AUDIT_VERIFY_KEY must hold Ed25519 public keys");
    keys.set(keyIdOf(key), key);
  }
  return keys;
}

/** What is signed: the position, the hash there and the instant, in a fixed text form. */
const message = (cp: Pick<Checkpoint, "chainSeq" | "hash" | "createdAt">) =>
  Buffer.from(`recovery-groups audit checkpoint v1\n${cp.chainSeq}\n${cp.hash}\n${cp.createdAt}`, "utf8");

function checkpointOf(row: AuditCheckpointRow): Checkpoint {
  return { chainSeq: row.chainSeq, hash: row.hash, createdAt: row.createdAt.toISOString(), keyId: row.keyId, signature: row.signature };
}

/**
 * Writes a checkpoint of the chain's last sealed position, signed when there is a key, unless the
 * last checkpoint is already there. Returns it (or null: nothing sealed yet, or nothing new).
 */
export async function writeCheckpoint(db: Db, key: SigningKey | null, at: Date): Promise<Checkpoint | null> {
  const [last] = await db
    .select({ chainSeq: auditEvents.chainSeq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(sql`${auditEvents.chainSeq} is not null`)
    .orderBy(desc(auditEvents.chainSeq))
    .limit(1);
  if (!last?.chainSeq || !last.hash) return null;
  const [previous] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.chainSeq)).limit(1);
  if (previous && previous.chainSeq >= last.chainSeq) return null;
  const createdAt = at.toISOString();
  const cp: Checkpoint = { chainSeq: last.chainSeq, hash: last.hash, createdAt, keyId: key?.keyId ?? null, signature: null };
  if (key) cp.signature = sign(null, message(cp), key.privateKey).toString("base64");
  await db.insert(auditCheckpoints).values({ chainSeq: cp.chainSeq, hash: cp.hash, createdAt: at, keyId: cp.keyId, signature: cp.signature });
  return cp;
}

/** The newest checkpoint, for export (`npm run audit:verify -- --export-checkpoint`). */
export async function latestCheckpoint(db: Db): Promise<Checkpoint | null> {
  const [row] = await db.select().from(auditCheckpoints).orderBy(desc(auditCheckpoints.chainSeq)).limit(1);
  return row ? checkpointOf(row) : null;
}

/** Whether a checkpoint's signature holds under one of `keys`: "ok", "unsigned", "unknown key" or "bad signature". */
function checkSignature(cp: Checkpoint, keys: Map<string, KeyObject>): "ok" | "unsigned" | "unknown key" | "bad signature" {
  if (!cp.signature) return "unsigned";
  const key = cp.keyId ? keys.get(cp.keyId) : undefined;
  if (!key) return "unknown key";
  try {
    return verify(null, message(cp), key, Buffer.from(cp.signature, "base64")) ? "ok" : "bad signature";
  } catch {
    return "bad signature";
  }
}

export interface VerifyReport extends ChainReport {
  checkpoints: { checked: number; unsigned: number };
  /** The first checkpoint that does not hold (its signature, or the chain's hash at its position). */
  badCheckpoint?: { chainSeq: number; reason: string };
  /** The exported checkpoint given, if any, and whether the chain still holds it. */
  exported?: { chainSeq: number; ok: boolean; reason?: string };
}

/**
 * The chain (verifyAuditChain), every stored checkpoint (its signature with `keys`, and the chain's
 * hash at its position), and an exported checkpoint if given (its signature, and that the chain
 * still reaches its position with its hash: nothing up to it changed, nothing removed).
 */
export async function verifyAuditLog(db: Db, keys: Map<string, KeyObject>, exported?: Checkpoint): Promise<VerifyReport> {
  const hashes = new Map<number, string>();
  const stored = (await db.select().from(auditCheckpoints)).map(checkpointOf);
  const wanted = new Set([...stored.map((c) => c.chainSeq), ...(exported ? [exported.chainSeq] : [])]);
  const chain = await verifyAuditChain(db, { onLink: (seq, hash) => wanted.has(seq) && hashes.set(seq, hash) });
  const report: VerifyReport = { ...chain, checkpoints: { checked: 0, unsigned: 0 } };
  const problem = (cp: Checkpoint): string | null => {
    const signature = checkSignature(cp, keys);
    if (signature === "bad signature") return "its signature does not hold (the checkpoint was changed or forged)";
    if (signature === "unknown key" && keys.size > 0) return `it is signed with key ${cp.keyId}, which is not among the verification keys`;
    const hash = hashes.get(cp.chainSeq);
    if (hash === undefined) return chain.broken ? "the chain is broken before its position" : "the chain no longer reaches its position (entries were removed)";
    if (hash !== cp.hash) return "the chain's hash at its position differs (entries up to it were changed)";
    return null;
  };
  for (const cp of stored.sort((a, b) => a.chainSeq - b.chainSeq)) {
    const reason = problem(cp);
    if (reason) {
      report.badCheckpoint = { chainSeq: cp.chainSeq, reason };
      break;
    }
    report.checkpoints.checked++;
    if (!cp.signature) report.checkpoints.unsigned++;
  }
  if (exported) {
    // (an unsigned copy kept elsewhere still proves the chain up to it: its hash is compared)
    const reason = problem(exported);
    report.exported = reason ? { chainSeq: exported.chainSeq, ok: false, reason } : { chainSeq: exported.chainSeq, ok: true };
  }
  return report;
}
