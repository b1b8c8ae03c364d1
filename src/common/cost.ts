// Query limits, checked before execution (no database work happens for a refused document):
//   depth    the deepest field nesting (fragments expanded; introspection counts as one level);
//   aliases  how many aliased fields the document holds;
//   cost     fields weighted by how many times they run: a connection multiplies its selection by
//            its page size (`first`/`last`, else the default page size), any other list by a fixed
//            estimate; a field declaring a cost (Policy `cost`: the engagement aggregates) adds it
//            each time it runs. Memoised per fragment, so fragment spreads cannot blow up the computation.
// Refusals are client errors (HTTP 400) with their own extensions.code; they state the limit, not
// how the document was measured.
import { Codes, statusOf, type ErrorCode } from "./codes.js";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  OperationTypeNode,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import { fieldPolicyOf } from "./policy.js";
import { DEFAULT_PAGE_SIZE } from "./relay.js";

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxCost: number;
  /** Lexical tokens per document, enforced by the parser (Apollo's parseOptions.maxTokens). */
  maxTokens: number;
}

/** Items assumed for a list that is not a connection (facilitators, roster, history). */
const LIST_ESTIMATE = 20;

export interface Measure {
  depth: number;
  aliases: number;
  cost: number;
}

interface Scope {
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  defaults: Map<string, unknown>;
  schema?: GraphQLSchema;
  memo: Map<string, { depth: number; cost: number }>;
  /** Inside __schema/__type. */
  introspection?: boolean;
}

function pageSize(field: FieldNode, scope: Scope): number | null {
  for (const name of ["first", "last"]) {
    const arg = field.arguments?.find((a) => a.name.value === name);
    if (!arg) continue;
    let value: unknown;
    if (arg.value.kind === Kind.VARIABLE) {
      const v = arg.value.name.value;
      value = v in scope.variables ? scope.variables[v] : scope.defaults.get(v);
    } else {
      value = valueFromASTUntyped(arg.value);
    }
    // A missing or malformed page size is refused by the field itself; count it as the default.
    if (typeof value === "number" && Number.isInteger(value) && value >= 1) return value;
    return DEFAULT_PAGE_SIZE;
  }
  return null;
}

function listArgLength(field: FieldNode, scope: Scope): number | null {
  // nodes(ids: [...]) fetches one object per id.
  const arg = field.arguments?.find((a) => a.name.value === "ids");
  if (!arg) return null;
  const value = arg.value.kind === Kind.VARIABLE ? scope.variables[arg.value.name.value] : valueFromASTUntyped(arg.value);
  return Array.isArray(value) ? Math.max(1, value.length) : 1;
}

function hasChild(set: SelectionSetNode | undefined, names: string[]): boolean {
  return set?.selections.some((s) => s.kind === Kind.FIELD && names.includes(s.name.value)) ?? false;
}

function multiplier(field: FieldNode, def: GraphQLField<unknown, unknown> | undefined, parent: GraphQLNamedType | undefined, scope: Scope): number {
  const page = pageSize(field, scope);
  if (page !== null) return page;
  const ids = listArgLength(field, scope);
  if (ids !== null) return ids;
  if (def) {
    // A page's (a connection's, the change feed's: anything with pageInfo) edges/nodes lists were
    // counted by the page field's page size.
    if (isPage(parent)) return 1;
    if (isPage(getNamedType(def.type))) return DEFAULT_PAGE_SIZE;
    return isListType(getNullableType(def.type)) ? LIST_ESTIMATE : 1;
  }
  // Not in the schema (estimating an operation of the contract still ahead): a selection of
  // nodes/edges reads as a connection.
  if (hasChild(field.selectionSet, ["nodes", "edges"])) return DEFAULT_PAGE_SIZE;
  return 1;
}

/** A paged list (a Relay connection, the attendance change feed): it has pageInfo. */
const isPage = (type: GraphQLNamedType | undefined) => Boolean(fieldsOf(type)?.pageInfo);

function fieldsOf(type: GraphQLNamedType | undefined): Record<string, GraphQLField<unknown, unknown>> | undefined {
  return type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : undefined;
}

function measureSet(set: SelectionSetNode, parent: GraphQLNamedType | undefined, scope: Scope, seen: Set<string>): { depth: number; cost: number } {
  let depth = 0;
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value === "__typename") {
        cost += 1;
        depth = Math.max(depth, 1);
        continue;
      }
      const name = sel.name.value;
      const def = name === "__schema" ? SchemaMetaFieldDef : name === "__type" ? TypeMetaFieldDef : fieldsOf(parent)?.[name];
      // A field expensive whatever its page size (an aggregate) declares its weight (Policy cost).
      const weight = def ? (fieldPolicyOf(def)?.cost ?? 0) : 0;
      if (!sel.selectionSet) {
        cost += 1 + weight;
        depth = Math.max(depth, 1);
        continue;
      }
      // Introspection (__schema, __type) reads no data, nests `ofType` deep by design and has its
      // list nesting bounded by graphql-js (MaxIntrospectionDepthRule): its fields count once
      // each, and as one level of depth.
      const introspection = name === "__schema" || name === "__type";
      const outer = scope.introspection;
      if (introspection) scope.introspection = true;
      const inner = measureSet(sel.selectionSet, def ? getNamedType(def.type) : undefined, scope, seen);
      scope.introspection = outer;
      cost += 1 + weight + (scope.introspection ? 1 : multiplier(sel, def, parent, scope)) * inner.cost;
      depth = Math.max(depth, introspection ? 1 : 1 + inner.depth);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const type = sel.typeCondition ? (scope.schema?.getType(sel.typeCondition.name.value) ?? undefined) : parent;
      const inner = measureSet(sel.selectionSet, type, scope, seen);
      cost += inner.cost;
      depth = Math.max(depth, inner.depth);
    } else {
      const name = sel.name.value;
      let inner = scope.memo.get(name);
      if (!inner) {
        const fragment = scope.fragments.get(name);
        if (!fragment || seen.has(name)) continue; // unknown or cyclic: refused by validation
        seen.add(name);
        const type = scope.schema?.getType(fragment.typeCondition.name.value) ?? undefined;
        inner = measureSet(fragment.selectionSet, type, scope, seen);
        seen.delete(name);
        scope.memo.set(name, inner);
      }
      cost += inner.cost;
      depth = Math.max(depth, inner.depth);
    }
  }
  return { depth, cost };
}

function countAliases(doc: DocumentNode): number {
  let n = 0;
  const walk = (set: SelectionSetNode | undefined) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD && sel.alias) n++;
      if (sel.kind !== Kind.FRAGMENT_SPREAD) walk(sel.selectionSet);
    }
  };
  for (const def of doc.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION || def.kind === Kind.FRAGMENT_DEFINITION) walk(def.selectionSet);
  }
  return n;
}

/** Depth, aliases and cost of one operation of a document (with its variables, when known). */
export function measureOperation(
  doc: DocumentNode,
  operation: OperationDefinitionNode,
  opts: { schema?: GraphQLSchema; variables?: Record<string, unknown> } = {},
): Measure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const defaults = new Map<string, unknown>();
  for (const v of operation.variableDefinitions ?? []) {
    if (v.defaultValue) defaults.set(v.variable.name.value, valueFromASTUntyped(v.defaultValue));
  }
  const scope: Scope = { fragments, variables: opts.variables ?? {}, defaults, schema: opts.schema, memo: new Map() };
  const root = opts.schema?.getRootType(operation.operation) ?? undefined;
  const { depth, cost } = measureSet(operation.selectionSet, root, scope, new Set());
  return { depth, cost, aliases: countAliases(doc) };
}

function refusal(code: ErrorCode, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: statusOf(code) } } });
}

/** The first limit a measure breaks, as the error to answer with; null within limits (also for subscriptions, src/live). */
export function limitError(m: Measure, limits: QueryLimits): GraphQLError | null {
  if (m.aliases > limits.maxAliases) return refusal(Codes.TOO_MANY_ALIASES, `A document may hold at most ${limits.maxAliases} aliases`);
  if (m.depth > limits.maxDepth) return refusal(Codes.QUERY_TOO_DEEP, `A query may nest at most ${limits.maxDepth} levels`);
  if (m.cost > limits.maxCost) return refusal(Codes.QUERY_TOO_COSTLY, `A query may cost at most ${limits.maxCost}`);
  return null;
}

/** Refuses documents past the limits after validation, before execution starts. */
export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin<BaseContext> {
  return {
    // Apollo's hooks return promises; these have nothing to wait for.
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document, operation, schema, request }) {
          if (!operation) return Promise.resolve();
          const error = limitError(measureOperation(document, operation, { schema, variables: request.variables ?? {} }), limits);
          return error ? Promise.reject(error) : Promise.resolve();
        },
      });
    },
  };
}

/**
 * Validation: an operation whose root type the schema lacks (`subscription { … }` here) is a
 * client error, not a failure at execution.
 */
export const KnownRootOperation: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This API does not support ${node.operation} operations`, { nodes: [node] }));
    }
  },
});

/**
 * Validation over HTTP: subscriptions are served over WebSocket (src/live), so a `subscription`
 * sent with POST or GET is a client error that says where to send it.
 */
export const NoSubscriptionOverHttp: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (node.operation === OperationTypeNode.SUBSCRIPTION && context.getSchema().getSubscriptionType()) {
      context.reportError(new GraphQLError("Subscriptions are served over WebSocket at /graphql (graphql-ws protocol), not over HTTP", { nodes: [node] }));
    }
  },
});
