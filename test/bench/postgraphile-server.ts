// PostGraphile 5 (amber preset) over the bench database: the GraphQL layer a user could pick instead.
// Needs Node 22: the bench runs it with the node@22 binary it installs (see test/bench/run.ts).
// Run: DATABASE_URL=… PORT=… node22 --import tsx test/bench/postgraphile-server.ts
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset],
  // Conditions and orders on every column (by default only indexed columns get them), as a user
  // writing these dashboard queries would configure.
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: { graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 60_000;
await serv.addTo(server);
await pgl.getSchema();
server.listen(Number(process.env.PORT), process.env.HOST ?? "127.0.0.1", () => console.log("postgraphile listening"));
const stop = () =>
  server.close(() => {
    // release() answers a promise or nothing, and may throw: chain it so every failure lands below.
    Promise.resolve()
      .then(() => pgl.release())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error("postgraphile: releasing failed", err);
          process.exit(1);
        },
      );
  });
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
