// Structured JSON log lines through pino (fastify's own logger). Never log protected data: no
// names, emails, notes, variables, tokens, SQL or database error messages (drizzle puts the SQL and
// its parameters into them). Request lines carry ids, the operation's name, the outcome and the
// duration only (src/server.ts); the authorization and cookie headers are redacted should a
// request object ever be logged.
import { pino, type Logger as PinoLogger } from "pino";

export type Logger = PinoLogger;
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `write` receives each line (tests); stdout otherwise. */
export function createLogger(level: LogLevel = "info", write?: (line: string) => void): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie", "headers.authorization", "variables"], censor: "[redacted]" },
  };
  // Synchronous writes: a line logged just before process.exit (shutdown, start-up failure) is
  // not lost in a buffer.
  if (!write) return pino(options, pino.destination({ dest: 1, sync: true }));
  return pino(options, { write: (line: string) => write(line.endsWith("\n") ? line.slice(0, -1) : line) });
}

export const silentLogger: Logger = pino({ level: "silent" });
