// A process that opens the embedded database in DATA_DIR (or, with HOLD=lock, only takes its lock,
// which is quicker), says "open <pid>", and holds it until SIGTERM (then releases it). A refused
// open prints the one-line reason and exits 1. For the lock tests.
import { openDatabase } from "../../src/db/client.js";
import { lockDataDir } from "../../src/db/lock.js";

try {
  const dir = process.env.DATA_DIR!;
  const held = process.env.HOLD === "lock" ? lockDataDir(dir) : await openDatabase({ dataDir: dir, migrate: false });
  const close = () => ("release" in held ? held.release() : held.close());
  // The handler first: the test sends SIGTERM as soon as it reads the line below.
  process.on("SIGTERM", () => {
    void Promise.resolve(close()).then(() => process.exit(0));
  });
  console.log(`open ${process.pid}`);
  setInterval(() => {}, 1 << 30);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}
