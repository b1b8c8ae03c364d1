// A TCP proxy between the server and PostgreSQL that a test cuts and restores, to play a database
// outage without touching the machine's PostgreSQL (other work uses it).
import { createServer, connect, type Server, type Socket } from "node:net";

export interface Proxy {
  port: number;
  /** The database URL through the proxy. */
  url: string;
  /** Connections opened so far. */
  readonly connections: number;
  /** Drops every connection and refuses new ones (ECONNREFUSED), as a database that went away. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  /**
   * Drops the connection that sends a statement containing `marker` (before PostgreSQL sees it),
   * once: a connection lost in the middle of a transaction.
   */
  cutOnStatement(marker: string): Promise<void>;
}

export async function startProxy(databaseUrl: string): Promise<Proxy> {
  const target = new URL(databaseUrl);
  const targetPort = Number(target.port || 5432);
  const sockets = new Set<Socket>();
  let trap: { marker: Buffer; fired: () => void } | undefined;
  let connections = 0;

  const onConnection = (client: Socket) => {
    connections++;
    const upstream = connect(targetPort, target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("data", (chunk: Buffer) => {
      if (trap && chunk.includes(trap.marker)) {
        const fired = trap.fired;
        trap = undefined;
        drop();
        fired();
        return;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("error", drop);
    upstream.on("error", drop);
    client.on("close", drop);
    upstream.on("close", drop);
  };

  let server: Server = createServer(onConnection);
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        const address = server.address();
        resolve(typeof address === "object" && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const url = new URL(databaseUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);

  return {
    port,
    url: url.toString(),
    get connections() {
      return connections;
    },
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      sockets.clear();
      await closed;
    },
    async restore() {
      server = createServer(onConnection);
      await listen(port);
    },
    cutOnStatement(marker) {
      return new Promise<void>((resolve) => {
        trap = { marker: Buffer.from(marker), fired: resolve };
      });
    },
  };
}
