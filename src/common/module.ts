// What a module of src/ hands to the app: its resolvers, its per-request DataLoaders, and the Node
// types `node(id:)` can fetch (how to load one, whether the viewer may see it). Each module
// exports one definition (src/<module>/<module>.module.ts); src/modules.ts lists them, and the
// schema (src/schema.ts), the loaders (src/loaders.ts) and `node` (src/node/) loop over that list.
import type { ClassType } from "type-graphql";
import type { Db } from "../db/client.js";
import type { Context } from "./context.js";
import type { NodeTypeName } from "./ids.js";

/** One Node type: `node(id:)` loads the row, then asks whether the viewer may see it. */
export interface NodeType<Row extends object = object> {
  typeName: NodeTypeName;
  /** The row behind a database id, or null when there is none. */
  load(ctx: Context, id: string): Promise<Row | null>;
  /**
   * Whether the viewer may see the row: false answers null, exactly as a missing id; throw (a
   * FORBIDDEN error) where the rule is to refuse rather than hide.
   */
  visible(ctx: Context, row: Row): boolean | Promise<boolean>;
}

/** A Node type of any row type (each module's has its own). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNodeType = NodeType<any>;

/**
 * A module: what it adds to the schema, to the request's loaders and to `node(id:)`. `Loaders` is
 * the type of the loaders it adds to `ctx.loaders`, by key: written on the module's definition
 * (`export const xModule: ModuleDefinition<{ xs: XLoaders }> = { ... }`), so the type of
 * `ctx.loaders` (src/loaders.ts) is read from the list of modules without inferring it through the
 * resolvers that use it.
 */
export interface ModuleDefinition<Loaders extends object = Record<never, never>> {
  /** The folder of src/ it lives in. */
  name: string;
  /** type-graphql resolver classes (queries, mutations, field resolvers) and the types they reach. */
  resolvers: readonly ClassType[];
  /**
   * Per-request loaders, by their key in `ctx.loaders`, built fresh for every request. `loaders`
   * holds those of the modules listed before this one (src/modules.ts), e.g. for priming.
   */
  loaders?: { [K in keyof Loaders]: (db: Db, loaders: Context["loaders"]) => Loaders[K] };
  nodeTypes?: readonly AnyNodeType[];
}

/** Declares a Node type; its row type comes from `load`. */
export function nodeType<Row extends object>(type: NodeType<Row>): NodeType<Row> {
  return type;
}

/** The loaders every module of the list adds, by key: the type of `ctx.loaders`. */
export type LoadersOf<Modules extends readonly ModuleDefinition<object>[]> = UnionToIntersection<LoadersOfOne<Modules[number]>>;

type LoadersOfOne<M> = M extends ModuleDefinition<infer L> ? L : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
