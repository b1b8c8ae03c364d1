// Answers a query in one SQL statement when the compiler knows every field of it (compiled.plan.ts,
// compiled.sql.ts), before graphql-js would execute it field by field (Apollo's
// responseForOperation), for any staff member: what each may read is the fields' declared
// audiences, as SQL. What it does not know, it leaves to the resolvers: mutations, a field an API
// client's scopes do not open (and API clients' consent rules, which it does not compile), a field
// the viewer may not read, an object out of reach or missing (the resolvers answer null,
// NOT_FOUND or FORBIDDEN, and record the refusal), any field, argument or directive not listed.
// Parsing, validation, the query limits and the audit plugin run as for any request; the objects
// of participant data the answer holds are recorded as READs exactly as the resolvers' audit
// wrappers record them, by the statement itself (its audit entries are data-modifying steps of
// it), whose COMMIT is sent right behind it: one round trip, the answer sent once it is committed.
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from "@apollo/server";
import { sql } from "drizzle-orm";
import {
  getVariableValues,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { stopWhenCancelled } from "../common/abort.js";
import type { Context } from "../common/context.js";
import { pgErrorOf } from "../common/errors.js";
import type { Logger } from "../logger.js";
import { decodeId, fromGlobalId } from "../common/ids.js";
import { rowsOf } from "../common/sql.js";
import { apiClientMayRead } from "../auth/access.js";
import type { StaffViewer, Viewer } from "../auth/viewer.js";
import { Center } from "../centers/center.type.js";
import { effectivePolicy } from "../common/policy.js";
import { AUDIT_KEY, Compiling, finish, GiveUp, jsonObject, REFUSED_KEY, type PlanNode } from "./compiled.plan.js";
import { operationNameOf } from "../audit/audit.plugin.js";
import { actorOf, entriesOf, readEntriesSql } from "../audit/audit.service.js";
import { Codes } from "../common/codes.js";
import { columnAs, tableAs } from "../common/sql.js";
import { centerOf, objectOf, ROOT_TYPES, tableOf, typeAudienceSql, uuidLiteral } from "./compiled.sql.js";

interface CompiledQuery {
  text: string;
  plan: PlanNode;
  /** The plan's walk as JSON paths (walkPaths), made on first use. */
  walk?: { audited: Array<[string, string]>; refused: string[] };
}

/** Compiled operations kept per instance, at most this many (the oldest dropped first). */
const KEPT_COMPILED = 500;

/**
 * What the compilation of an operation depends on besides its document: the operation, the
 * variables as sent, and the viewer (who they are, their roles and groups). The compiler reads
 * nothing else (no clock, no database), so the same key compiles to the same statement.
 */
function compilationKey(operationName: string | null | undefined, variables: Record<string, unknown> | undefined, viewer: Viewer): string | null {
  if (viewer.kind !== "staff") return null;
  let vars: string;
  try {
    vars = JSON.stringify(variables ?? {});
  } catch {
    return null;
  }
  const roles = [...viewer.roles].sort(([a], [b]) => (a < b ? -1 : 1));
  const groups = [...viewer.facilitatedGroupIds].sort();
  return JSON.stringify([operationName ?? null, vars, viewer.staffId, viewer.isOrgAdmin, roles, groups]);
}

/**
 * The operation as one statement answering `data` as JSON text, or why the compiler leaves it to
 * the resolvers (a field, argument or type it does not know, a viewer it does not serve).
 */
function compileOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  rawVariables: Record<string, unknown> | undefined,
  who: Viewer,
): CompiledQuery | GiveUp {
  if (operation.operation !== OperationTypeNode.QUERY) return new GiveUp("not a query");
  const queryType = schema.getQueryType();
  if (!queryType) return new GiveUp("no query type");
  if (who.kind === "apiClient") {
    // The API-client gate of the declarations: a root field its scopes do not open answers as for
    // an outsider. Past it, what a client reads of a participant depends on consents, which the
    // compiler does not restate.
    for (const selection of operation.selectionSet.selections) {
      const field = selection.kind === Kind.FIELD ? queryType.getFields()[selection.name.value] : undefined;
      if (field && !apiClientMayRead(who, effectivePolicy(queryType, field).api)) return new GiveUp(`Query.${field.name} is closed to the API client`);
    }
    return new GiveUp("API clients' consent rules are not compiled");
  }
  const viewer: StaffViewer = who;
  const variables = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables ?? {});
  if (variables.errors) return new GiveUp("variables");
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  const c = new Compiling(schema, fragments, variables.coerced, viewer);
  const memberOf = (centerId: string) => viewer.isOrgAdmin || viewer.roles.has(centerId);
  // A root object is at one of the viewer's centers (else it reads as missing) and its type's audience lets them read it.
  const inReach = (typeName: string, alias: string) =>
    viewer.isOrgAdmin ? "true" : `${centerOf(c, typeName, alias)} in (${[...viewer.roles.keys()].map(uuidLiteral).join(", ") || "null"})`;
  try {
    const pairs: Array<[string, string]> = [];
    const plan: PlanNode = { typeName: queryType.name, audited: false, children: [] };
    for (const root of c.collect(queryType, [operation.selectionSet])) {
      if (root.name === "__typename") {
        pairs.push([root.key, `'${queryType.name}'`]);
        continue;
      }
      let typeName: string;
      let id: string;
      let reach: (alias: string) => string;
      if (root.name === "center") {
        const centerId = decodeId(String(root.args.id), "Center");
        if (!centerId || !memberOf(centerId)) return new GiveUp("center out of the viewer's reach");
        [typeName, id, reach] = [Center.name, centerId, () => "true"];
      } else if (root.name === "node") {
        const parsed = fromGlobalId(String(root.args.id));
        if (!parsed || !ROOT_TYPES.has(parsed.type)) return new GiveUp("node of another type");
        if (parsed.type === Center.name && !memberOf(parsed.id)) return new GiveUp("center out of the viewer's reach");
        [typeName, id, reach] = [parsed.type, parsed.id, parsed.type === Center.name ? () => "true" : (a: string) => inReach(parsed.type, a)];
      } else return new GiveUp(`root field ${root.name}`);
      const alias = c.alias();
      const visible = typeAudienceSql(c, typeName, alias);
      const obj = objectOf(c, typeName, alias, c.below(root), new Set([visible]));
      const table = tableOf(typeName);
      const where = [`${columnAs(table.id, alias)} = ${uuidLiteral(id)}`, reach(alias), visible].filter((w) => w !== "true").join(" and ");
      pairs.push([root.key, `(select ${obj.sql} from ${tableAs(table, alias)} where ${where})`]);
      // Missing or out of reach: the resolvers answer it (null, and the refusal recorded).
      plan.children.push({ key: root.key, nonNull: true, list: false, itemNonNull: false, node: obj.plan! });
    }
    if (!plan.children.length) return new GiveUp("no object asked for");
    return { text: `select ${jsonObject(pairs)}::text as data`, plan };
  } catch (err) {
    if (err instanceof GiveUp) return err;
    throw err;
  }
}

/** A key of the answer in a JSON path (GraphQL names and the compiler's own keys need no escaping). */
const pathKey = (key: string) => `."${key}"`;
/** The objects (not nulls) a JSON path reaches. */
const objects = (path: string, also = "") => `${path} ? (@.type() == "object"${also ? ` && ${also}` : ""})`;

/**
 * The plan's walk (finish) as JSON paths (lax, over the answer as jsonb): where its audited objects'
 * identities are, and the paths that reach something `finish` refuses (a refused field, a null
 * where the schema says non-null): the answer is the statement's only when none of them does.
 */
function walkPaths(plan: PlanNode, path: string, out: { audited: Array<[string, string]>; refused: string[] }): void {
  if (plan.refusable) out.refused.push(objects(path, `!(@${pathKey(REFUSED_KEY)} == false)`));
  if (plan.audited) out.audited.push([plan.typeName, `${objects(path)}${pathKey(AUDIT_KEY)}`]);
  for (const child of plan.children) {
    const k = pathKey(child.key);
    if (child.nonNull) out.refused.push(objects(path, `@${k}.type() == "null"`));
    if (child.list) {
      if (child.itemNonNull) out.refused.push(`${objects(path, `@${k}.type() == "array"`)}${k}[*] ? (@.type() == "null")`);
      walkPaths(child.node, `${path}${k}[*]`, out);
    } else walkPaths(child.node, `${path}${k}`, out);
  }
}

/**
 * The compiled statement that also writes the audit entries of what its answer holds (one
 * data-modifying step of it, audit.service.ts readEntriesSql), only when the answer is the one
 * `finish` hands out: the read and its entries commit together, and the COMMIT can be sent right
 * behind it. Null when the entries cannot be built in SQL for this request (they are then recorded
 * from JS, as the resolvers' are).
 */
function withAuditEntries(ctx: Context, compiled: CompiledQuery, operationName: string | null): string | null {
  if (!ctx.viewer || ctx.access.touches.length) return null;
  if (!compiled.walk) walkPaths(compiled.plan, "$", (compiled.walk = { audited: [], refused: [] }));
  const walk = compiled.walk;
  const data = `with answer as materialized (${compiled.text})`;
  if (!walk.audited.length) return compiled.text;
  // One JSON path for all of them (fewer expressions to plan and run than one call each).
  const ok = walk.refused.length ? `not jsonb_path_exists(j.j, 'lax $ ? (${walk.refused.map((p) => `exists(${p})`).join(" || ")})')` : "true";
  const touched =
    `(select o.t, i.v->>0 as r, i.v->>1 as c, p.v as p from answer_jsonb j cross join lateral (values ${walk.audited.map(([t, p]) => `('${t}', '${p}')`).join(", ")}) as o(t, path) ` +
    `cross join lateral jsonb_path_query(j.j, ('lax ' || o.path)::jsonpath) as i(v) left join lateral jsonb_array_elements_text(i.v->2) as p(v) on true where ${ok})`;
  const entries = readEntriesSql(touched, { actor: actorOf(ctx.viewer), operationName, requestId: ctx.requestId ?? null });
  if (!entries) return null;
  return `${data}, answer_jsonb as materialized (select data::jsonb as j from answer), ${entries.ctes} select (select data from answer) as data, ${entries.written} as audited`;
}

/** Runs a compiled query: its data, with what it read recorded; null when the resolvers must answer instead. */
async function runCompiled(ctx: Context, compiled: CompiledQuery, operationName: string | null): Promise<Record<string, unknown> | null> {
  // The entries written by the statement itself, and its COMMIT sent right behind it: one round trip.
  const text = withAuditEntries(ctx, compiled, operationName);
  const statement = () => rowsOf<{ data: string; audited?: number }>(ctx.db, sql.raw(text ?? compiled.text));
  const [row] = text && ctx.scope ? await ctx.scope.commitAfter(statement) : await statement();
  // Past the deadline (or the client gone) while it ran: nothing is handed out (nor recorded as
  // read, unless the statement recorded it itself: then it stands, as for any answer lost on its way).
  stopWhenCancelled(ctx);
  const data = JSON.parse(row.data) as Record<string, unknown>;
  const reads: Array<[string, [string | null, string, string[]]]> = [];
  if (!finish(compiled.plan, data, (typeName, identity) => reads.push([typeName, identity]))) return null;
  const touches = reads.map(([resourceType, [resourceId, centerId, participantIds]]) => ({
    action: "READ" as const,
    outcome: "ALLOWED" as const,
    resourceType,
    resourceId,
    centerId,
    participantIds,
  }));
  if (text === null) {
    for (const touch of touches) ctx.access.touch(touch);
  } else if (touches.length && (row.audited ?? 0) < entriesOf(touches, { actor: null, operationName: null, requestId: null }).length) {
    // Fewer entries written than the answer holds groups of objects: nothing is handed out.
    throw new AuditNotWritten();
  }
  return data;
}

/** The statement wrote fewer audit entries than its answer needs. */
class AuditNotWritten extends Error {
  constructor() {
    super("the compiled read's audit entries were not all written");
  }
}

export function compiledQueriesPlugin(options: { enabled: boolean; logger: Logger }): ApolloServerPlugin<Context & BaseContext> {
  // Per document (Apollo keeps one parsed document per query text), per compilation key.
  const kept = new Map<DocumentNode, Map<string, CompiledQuery | GiveUp>>();
  let keptCount = 0;
  const compile = (
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    request: { operationName?: string | null; variables?: Record<string, unknown> },
    viewer: Viewer,
  ) => {
    const key = compilationKey(request.operationName, request.variables, viewer);
    let forDocument = kept.get(document);
    const found = key === null ? undefined : forDocument?.get(key);
    if (found) return found;
    const compiled = compileOperation(schema, document, operation, request.variables, viewer);
    if (key === null) return compiled;
    if (keptCount >= KEPT_COMPILED) {
      // The simplest bound: start over (a working set of more than KEPT_COMPILED recompiles).
      kept.clear();
      keptCount = 0;
      forDocument = undefined;
    }
    if (!forDocument) kept.set(document, (forDocument = new Map<string, CompiledQuery | GiveUp>()));
    forDocument.set(key, compiled);
    keptCount++;
    return compiled;
  };
  return {
    requestDidStart() {
      if (!options.enabled) return Promise.resolve();
      return Promise.resolve({
        async responseForOperation({ contextValue, document, operation, request, schema }) {
          const viewer = contextValue.viewer;
          if (!viewer) return null;
          const compiled = compile(schema, document, operation, request, viewer);
          if (compiled instanceof GiveUp) {
            options.logger.debug({ requestId: contextValue.requestId, reason: compiled.reason }, "not compiled");
            return null;
          }
          let data: Record<string, unknown> | null;
          try {
            stopWhenCancelled(contextValue);
            data = await runCompiled(contextValue, compiled, operationNameOf(request.operationName, operation));
          } catch (err) {
            if (err instanceof AuditNotWritten) {
              options.logger.error({ requestId: contextValue.requestId }, "audit write failed");
              return {
                http: { status: 500, headers: new HeaderMap() },
                body: {
                  kind: "single",
                  singleResult: {
                    errors: [{ message: "Internal server error", extensions: { code: Codes.INTERNAL_SERVER_ERROR, requestId: contextValue.requestId } }],
                  },
                },
              };
            }
            // Cancelled: the cancellation plugin answers REQUEST_TIMEOUT (HTTP 503).
            if (contextValue.lifetime?.stopped)
              return { http: { status: 503, headers: new HeaderMap() }, body: { kind: "single", singleResult: { data: null } } };
            // The resolvers meet the same trouble and answer it as usual (503 while the
            // database is unreachable, a masked internal error otherwise). The log gets the
            // kind of error only (its message may hold the statement and its values).
            options.logger.warn(
              { requestId: contextValue.requestId, errorName: (err as Error)?.name, pgCode: pgErrorOf(err)?.code },
              "compiled query failed; answered by the resolvers",
            );
            return null;
          }
          if (!data) return null;
          return { http: { status: undefined, headers: new HeaderMap() }, body: { kind: "single", singleResult: { data } } };
        },
      });
    },
  };
}
