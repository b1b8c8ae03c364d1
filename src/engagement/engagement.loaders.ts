// Per-request loaders for engagement figures. Keys that share everything but their id (the same
// period, reach and interval) are computed in one statement. The figures that describe a
// participant over all time and all groups (no period, the whole center in reach) come from the
// kept rows (engagement_states) where they are fresh, and from the reference statement, in the
// same statement, for the participants whose rows are dirty or due; the rollups and trends sum the
// kept counts of each session (engagement_sessions), counting dirty sessions themselves; the rest
// (a participant over a period or a facilitator's groups, a group's or program's at-risk count) is
// computed by the reference.
import DataLoader from "dataloader";
import { sql } from "drizzle-orm";
import { clock } from "../common/clock.js";
import { qualified } from "../common/sql.js";
import type { Db } from "../db/client.js";
import { participants } from "../db/schema.js";
import { registerRiskCondition } from "../participants/participant.loaders.js";
import { rowsOf } from "../common/sql.js";
import {
  atRiskSql,
  centerMembers,
  keptCenterAtRiskSql,
  keptParticipantMetricsSql,
  keptRiskSql,
  keptRollupSql,
  keptTrendSql,
  participantMembers,
  participantMetricsSql,
  scopeGroupCondition,
  type DayWindow,
  type GroupScope,
  type ParticipantMetricsRow,
  type RollupKind,
  type RollupRow,
  type TrendInterval,
  type TrendRow,
} from "./engagement.sql.js";

// Center.participants(riskLevel:) is filtered by the same SQL that computes each participant's risk.
registerRiskCondition((level, centerIds, groupScope) => {
  if (groupScope === "ALL") return sql`${qualified(participants.id)} in (${keptRiskSql(level, centerIds, clock.now())})`;
  const metrics = participantMetricsSql({
    members: centerMembers(centerIds),
    groupCondition: scopeGroupCondition(groupScope),
    window: { from: null, to: null },
    now: clock.now(),
  });
  return sql`${qualified(participants.id)} in (select r.participant_id from (${metrics}) r where r.risk_level = ${level})`;
});

/**
 * A loader whose keys are batched by everything but `id`: one call of `fetch` per distinct rest.
 */
function batchedBy<K extends { id: string }, V>(fetch: (ids: string[], rest: Omit<K, "id">) => Promise<Map<string, V>>, fallback: (key: K) => V) {
  const restKey = (k: K) => {
    const { id, ...rest } = k;
    void id;
    return JSON.stringify(rest);
  };
  return new DataLoader<K, V, string>(
    async (keys) => {
      const batches = new Map<string, { rest: Omit<K, "id">; ids: Set<string> }>();
      for (const k of keys) {
        const rk = restKey(k);
        const b = batches.get(rk) ?? { rest: (({ id, ...rest }) => (void id, rest))(k), ids: new Set<string>() };
        b.ids.add(k.id);
        batches.set(rk, b);
      }
      const results = new Map<string, Map<string, V>>();
      await Promise.all([...batches.entries()].map(async ([rk, b]) => results.set(rk, await fetch([...b.ids], b.rest))));
      return keys.map((k) => results.get(restKey(k))!.get(k.id) ?? fallback(k));
    },
    { cacheKeyFn: (k) => `${k.id}|${restKey(k)}` },
  );
}

export interface ParticipantKey {
  id: string;
  window: DayWindow;
  scope: GroupScope;
}

export interface RollupLoadKey {
  id: string;
  kind: RollupKind;
  window: DayWindow;
  scope: GroupScope;
}

export interface TrendLoadKey extends RollupLoadKey {
  interval: TrendInterval;
}

const EMPTY_ROLLUP = (key: string): RollupRow => ({
  key,
  held: 0,
  expected: 0,
  attended: 0,
  missed: 0,
  excused: 0,
  unrecorded: 0,
  active: 0,
  open_follow_ups: 0,
});

export function engagementLoaders(db: Db) {
  return {
    /** Each participant's figures over a period, judged on the groups in reach. */
    participant: batchedBy<ParticipantKey, ParticipantMetricsRow | null>(
      async (ids, { window, scope }) => {
        const allTime = scope === "ALL" && window.from === null && window.to === null;
        const rows = await rowsOf<ParticipantMetricsRow>(
          db,
          allTime
            ? keptParticipantMetricsSql(ids, clock.now())
            : participantMetricsSql({ members: participantMembers(ids), groupCondition: scopeGroupCondition(scope), window, now: clock.now() }),
        );
        return new Map(rows.map((r) => [r.participant_id, r]));
      },
      () => null,
    ),
    /** Counts of each group, program or center over a period. */
    rollup: batchedBy<RollupLoadKey, RollupRow>(
      async (ids, { kind, window, scope }) => {
        const rows = await rowsOf<RollupRow>(db, keptRollupSql(kind, ids, scope, window, clock.now()));
        return new Map(rows.map((r) => [r.key, r]));
      },
      (k) => EMPTY_ROLLUP(k.id),
    ),
    /** Participants at HIGH risk in each group, program or center. */
    atRisk: batchedBy<Omit<RollupLoadKey, "window">, number>(
      async (ids, { kind, scope }) => {
        const rows = await rowsOf<{ key: string; n: number }>(
          db,
          kind === "center" && scope === "ALL" ? keptCenterAtRiskSql(ids, clock.now()) : atRiskSql(kind, ids, scope, clock.now()),
        );
        return new Map(rows.map((r) => [r.key, Number(r.n)]));
      },
      () => 0,
    ),
    /** Counts per period of each group, program or center. */
    trend: batchedBy<TrendLoadKey, TrendRow[]>(
      async (ids, { kind, window, scope, interval }) => {
        const rows = await rowsOf<TrendRow>(db, keptTrendSql(kind, ids, scope, window, interval, clock.now()));
        const map = new Map<string, TrendRow[]>();
        for (const r of rows) map.set(r.key, [...(map.get(r.key) ?? []), r]);
        return map;
      },
      () => [],
    ),
  };
}
