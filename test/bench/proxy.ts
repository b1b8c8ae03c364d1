// A TCP proxy in front of PostgreSQL that counts what a server asks and reads: bytes from
// PostgreSQL to the client, bytes sent to it, and statements executed (an Execute message of the
// extended protocol, or a simple Query). No extension needed (pg_stat_statements must be preloaded).
import net from "node:net";

interface ProxyCounters {
  statements: number;
  bytesFromServer: number;
  bytesToServer: number;
}

export interface PgProxy {
  port: number;
  counters: ProxyCounters;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/** Counts frontend messages: the first (startup) ones have no type byte, later ones do. */
function frontendCounter(counters: ProxyCounters) {
  let buf: Buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (startup) {
        if (buf.length < 8) return;
        const len = buf.readInt32BE(0);
        if (buf.length < len) return;
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        // After an SSL/GSS request the real startup message follows (TLS is not used here).
        if (code !== SSL_REQUEST && code !== GSS_REQUEST) startup = false;
        continue;
      }
      if (buf.length < 5) return;
      const type = buf[0];
      const len = buf.readInt32BE(1);
      if (buf.length < 1 + len) return;
      if (type === 0x45 /* E */ || type === 0x51 /* Q */) counters.statements++;
      buf = buf.subarray(1 + len);
    }
  };
}

export function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const counters: ProxyCounters = { statements: 0, bytesFromServer: 0, bytesToServer: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(target.port, target.host);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const count = frontendCounter(counters);
    client.on("data", (chunk) => {
      counters.bytesToServer += chunk.length;
      count(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk) => {
      counters.bytesFromServer += chunk.length;
      if (!client.write(chunk)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        counters,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
