// Prometheus metrics (prom-client), one registry per app (tests run several apps in a process):
//   graphql_requests_total{operation,outcome}     requests by operation name and outcome
//   graphql_request_duration_seconds{operation}   latency by operation
//   graphql_errors_total{code}                    errors answered, by extensions.code
//   http_requests_total{route,status}             every HTTP answer (health, metrics, refusals)
//   http_requests_in_flight                       requests being served now
//   db_pool_size                                  the pool's bound (postgres.js exposes no counts of
//                                                 connections in use or callers waiting)
//   nodejs_eventloop_lag_* and process_*          prom-client's default metrics
// Operation names come from the document the client sent: only names of the manifest, or
// "anonymous"/"other", become labels, so a client cannot grow the label set without bound.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface Metrics {
  registry: Registry;
  requests: Counter<"operation" | "outcome">;
  duration: Histogram<"operation">;
  errors: Counter<"code">;
  http: Counter<"route" | "status">;
  inFlight: Gauge;
  /** Registers a gauge read at scrape time (e.g. the feed's lag, from the module that owns it). */
  registerGauge(name: string, help: string, read: () => number | Promise<number>): void;
}

export function createMetrics(opts: { poolSize?: number } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const requests = new Counter({
    name: "graphql_requests_total",
    help: "GraphQL requests by operation name and outcome (ok, error, refused)",
    labelNames: ["operation", "outcome"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "graphql_request_duration_seconds",
    help: "GraphQL request latency by operation name",
    labelNames: ["operation"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({ name: "graphql_errors_total", help: "Errors answered, by code", labelNames: ["code"] as const, registers: [registry] });
  const http = new Counter({
    name: "http_requests_total",
    help: "HTTP answers by route and status",
    labelNames: ["route", "status"] as const,
    registers: [registry],
  });
  const inFlight = new Gauge({ name: "http_requests_in_flight", help: "HTTP requests being served", registers: [registry] });
  if (opts.poolSize !== undefined) {
    new Gauge({ name: "db_pool_size", help: "Most database connections the pool opens", registers: [registry] }).set(opts.poolSize);
  }
  return {
    registry,
    requests,
    duration,
    errors,
    http,
    inFlight,
    registerGauge(name, help, read) {
      new Gauge({
        name,
        help,
        registers: [registry],
        async collect() {
          this.set(await read());
        },
      });
    },
  };
}
