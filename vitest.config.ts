import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";
import { SlowFirstSequencer } from "./test/support/sequencer.js";

const require = createRequire(import.meta.url);

export default defineConfig({
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } } as never,
  resolve: {
    // One graphql module for everybody: Node loads graphql's CJS entry for type-graphql, Apollo and
    // graphql-scalars, so the tests' own imports must get the same one (else `instanceof` fails).
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // The migrated schema, once per run (a PGlite snapshot or a PostgreSQL template database).
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Both cores: the default (cores - 1) runs the files one at a time on CI's 2-core machines.
    maxWorkers: 2,
    // A worker runs file after file in one process: the modules and PGlite's WebAssembly are loaded
    // once per worker, not once per file (seconds each). Every file still has its own server and
    // database (test/support/server.ts), and the clock is reset after every test (test/setup.ts).
    isolate: false,
    sequence: { sequencer: SlowFirstSequencer },
  },
});
