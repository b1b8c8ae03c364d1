// A query compiled to one SQL statement: the selection set walked against the schema and turned
// into nested json_build_object/json_agg, PostgreSQL building the whole answer (as PostGraphile
// does), instead of one resolver call per field and one statement per relation.
//
// The compiler knows a fixed set of types and fields (compiled.sql.ts) and gives up (null) on
// anything else: another field, argument, directive or viewer; the request then runs through the
// resolvers as before, which stay the reference. Giving up is always safe, so the compiler only
// ever takes the cases whose answer it can build exactly, and the tests compare both paths.
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
  type SelectionSetNode,
} from "graphql";
import type { StaffViewer, Viewer } from "../auth/viewer.js";

/** A field of the selection, merged over fragments (as graphql-js's collectFields does). */
export interface Sel {
  key: string;
  name: string;
  field: GraphQLField<unknown, unknown> | null;
  args: Record<string, unknown>;
  nodes: FieldNode[];
}

/** What the walk over the answer must do at one object: record its audit entry, check its children. */
export interface PlanNode {
  typeName: string;
  /** The object carries its audit identity under AUDIT_KEY (removed before the answer leaves). */
  audited: boolean;
  /**
   * The object carries under REFUSED_KEY whether the viewer may not read one of its fields (a
   * declared audience that depends on the row: a facilitator's groups). The resolvers then answer
   * a refusal: the compiler gives up.
   */
  refusable?: boolean;
  children: Array<{ key: string; nonNull: boolean; list: boolean; itemNonNull: boolean; node: PlanNode }>;
}

export const AUDIT_KEY = "$a";
export const REFUSED_KEY = "$r";

/** Unknown to the compiler: the request goes through the resolvers. */
export class GiveUp extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class Compiling<V extends Viewer = StaffViewer> {
  private aliases = 0;

  constructor(
    readonly schema: GraphQLSchema,
    private readonly fragments: Record<string, FragmentDefinitionNode>,
    readonly variables: Record<string, unknown>,
    /**
     * A staff member, whatever their roles: what they may read is the fields' declared audiences
     * (compiled.sql.ts); an API client reading its feed: what its scopes open (src/feed/feed.plan.ts).
     */
    readonly viewer: V,
  ) {}

  alias(): string {
    return `t${++this.aliases}`;
  }

  objectType(name: string): GraphQLObjectType {
    const type = this.schema.getType(name);
    if (!isObjectType(type)) throw new GiveUp(`${name} is not an object type`);
    return type;
  }

  /** The fields selected on an object of `type`, in order, from the given field nodes' selection sets. */
  collect(type: GraphQLObjectType, sets: readonly (SelectionSetNode | undefined)[]): Sel[] {
    const out = new Map<string, Sel>();
    const visit = (set: SelectionSetNode) => {
      for (const s of set.selections) {
        if (!this.included(s)) continue;
        if (s.kind === Kind.FIELD) {
          const key = s.alias?.value ?? s.name.value;
          const name = s.name.value;
          const seen = out.get(key);
          if (seen) {
            if (seen.name !== name) throw new GiveUp("two fields under one key");
            seen.nodes.push(s);
            continue;
          }
          if (name === "__typename") {
            out.set(key, { key, name, field: null, args: {}, nodes: [s] });
            continue;
          }
          const field = type.getFields()[name];
          if (!field) throw new GiveUp(`no field ${type.name}.${name}`);
          out.set(key, { key, name, field, args: getArgumentValues(field, s, this.variables), nodes: [s] });
        } else if (s.kind === Kind.INLINE_FRAGMENT) {
          if (this.applies(type, s.typeCondition?.name.value)) visit(s.selectionSet);
        } else {
          const fragment = this.fragments[s.name.value];
          if (!fragment) throw new GiveUp("unknown fragment");
          if (this.applies(type, fragment.typeCondition.name.value)) visit(fragment.selectionSet);
        }
      }
    };
    for (const set of sets) if (set) visit(set);
    return [...out.values()];
  }

  /** The selection sets below a field (all its merged nodes). */
  below(sel: Sel): SelectionSetNode[] {
    return sel.nodes.map((n) => n.selectionSet).filter((s): s is SelectionSetNode => s !== undefined);
  }

  private applies(type: GraphQLObjectType, condition: string | undefined): boolean {
    if (!condition || condition === type.name) return true;
    return type.getInterfaces().some((i) => i.name === condition);
  }

  private included(node: { directives?: readonly { name: { value: string } }[] }): boolean {
    for (const d of node.directives ?? []) {
      if (d.name.value !== "skip" && d.name.value !== "include") throw new GiveUp(`directive @${d.name.value}`);
    }
    if (!node.directives?.length) return true;
    const skip = getDirectiveValues(GraphQLSkipDirective, node as never, this.variables);
    if (skip?.if === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node as never, this.variables);
    return include?.if !== false;
  }
}

/** How a field's value nests: the named type, whether it is a list, and its nullability. */
export function shapeOf(type: GraphQLType): { named: string; list: boolean; nonNull: boolean; itemNonNull: boolean } {
  const nonNull = isNonNullType(type);
  const inner = getNullableType(type);
  const list = isListType(inner);
  return { named: getNamedType(type).name, list, nonNull, itemNonNull: list && isNonNullType(inner.ofType) };
}

/** A JSON object key: GraphQL names are [_A-Za-z][_0-9A-Za-z]*, so they are safe to inline. */
function keyLiteral(key: string): string {
  if (!/^[_A-Za-z][_0-9A-Za-z]*$/.test(key) && key !== AUDIT_KEY && key !== REFUSED_KEY) throw new GiveUp("key");
  return `'${key}'`;
}

/** json_build_object of key/value pairs (PostgreSQL takes at most 100 arguments). */
export function jsonObject(pairs: Array<[string, string]>): string {
  if (pairs.length > 50) throw new GiveUp("more than 50 keys in one object");
  return `json_build_object(${pairs.map(([k, v]) => `${keyLiteral(k)}, ${v}`).join(", ")})`;
}

/**
 * A base64url string of `prefix || value` without padding, as Buffer's "base64url" (ids, cursors),
 * for the dashboard's compiler and the feed's. replace() rather than translate(), which walks its
 * argument character by character for multibyte text: about three times cheaper per id.
 */
export function base64url(prefix: string, value: string): string {
  if (!/^[A-Za-z]+:$/.test(prefix)) throw new GiveUp("prefix");
  const base64 = `encode(convert_to('${prefix}' || (${value})::text, 'UTF8'), 'base64')`;
  return `rtrim(replace(replace(replace(${base64}, E'\\n', ''), '+', '-'), '/', '_'), '=')`;
}

/** An instant as graphql-scalars' DateTime serializes it: ISO 8601 in UTC with milliseconds. */
export function isoInstant(value: string): string {
  return `to_char((${value}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Walks the answer along the plan: records each audited object's identity, removes it from the
 * answer, and checks that no non-null field came back null and that the viewer may read every
 * field asked for (else the resolvers would have answered differently: the compiler then gives
 * up). Returns false on such a null or refusal.
 */
export function finish(
  plan: PlanNode,
  value: Record<string, unknown>,
  onAudited: (typeName: string, identity: [string | null, string, string[]]) => void,
): boolean {
  if (plan.refusable) {
    if (value[REFUSED_KEY] !== false) return false;
    delete value[REFUSED_KEY];
  }
  if (plan.audited) {
    onAudited(plan.typeName, value[AUDIT_KEY] as [string | null, string, string[]]);
    delete value[AUDIT_KEY];
  }
  for (const child of plan.children) {
    const v = value[child.key];
    if (v === null || v === undefined) {
      if (child.nonNull) return false;
      continue;
    }
    if (child.list) {
      for (const item of v as Array<Record<string, unknown> | null>) {
        if (item === null) {
          if (child.itemNonNull) return false;
          continue;
        }
        if (!finish(child.node, item, onAudited)) return false;
      }
    } else if (!finish(child.node, v as Record<string, unknown>, onAudited)) return false;
  }
  return true;
}
