// A TCP proxy in front of PostgreSQL that counts what a server asks and reads: bytes from
// PostgreSQL to the client, bytes sent to it, statements executed (an Execute message of the
// extended protocol, or a simple Query), and round trips: the times a connection that was waiting
// for nothing (every Sync or Query answered by ReadyForQuery) sent something, so that statements
// pipelined together count once. No extension needed (pg_stat_statements must be preloaded).
import net from "node:net";

interface ProxyCounters {
  statements: number;
  roundTrips: number;
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

/** What one connection waits for: Syncs and Queries sent and not yet answered by ReadyForQuery. */
interface Waiting {
  pending: number;
  /** The backend answers an SSL/GSS request with one untyped byte. */
  untypedBytes: number;
}

/** Counts frontend messages: the first (startup) ones have no type byte, later ones do. */
function frontendCounter(counters: ProxyCounters, waiting: Waiting) {
  let buf: Buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk: Buffer) => {
    if (!startup && waiting.pending === 0) counters.roundTrips++;
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
        else waiting.untypedBytes++;
        continue;
      }
      if (buf.length < 5) return;
      const type = buf[0];
      const len = buf.readInt32BE(1);
      if (buf.length < 1 + len) return;
      if (type === 0x45 /* E */ || type === 0x51 /* Q */) counters.statements++;
      if (type === 0x53 /* Sync */ || type === 0x51 /* Q */) waiting.pending++;
      buf = buf.subarray(1 + len);
    }
  };
}

/** Follows backend messages for ReadyForQuery (Z), which answers one Sync or Query. */
function backendCounter(waiting: Waiting) {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (waiting.untypedBytes > 0) {
        if (buf.length < 1) return;
        waiting.untypedBytes--;
        buf = buf.subarray(1);
        continue;
      }
      if (buf.length < 5) return;
      const len = buf.readInt32BE(1);
      if (buf.length < 1 + len) return;
      if (buf[0] === 0x5a /* Z */ && waiting.pending > 0) waiting.pending--;
      buf = buf.subarray(1 + len);
    }
  };
}

export function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const counters: ProxyCounters = { statements: 0, roundTrips: 0, bytesFromServer: 0, bytesToServer: 0 };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    client.setNoDelay(true);
    const upstream = net.connect(target.port, target.host);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    const waiting: Waiting = { pending: 0, untypedBytes: 0 };
    const count = frontendCounter(counters, waiting);
    const answered = backendCounter(waiting);
    client.on("data", (chunk) => {
      counters.bytesToServer += chunk.length;
      count(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk) => {
      counters.bytesFromServer += chunk.length;
      answered(chunk);
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
