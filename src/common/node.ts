// The Relay Node interface. Types implement it without declaring `id`; the interface's field
// resolver turns the row's uuid into the opaque global id for whichever type holds it.
import { Field, FieldResolver, ID, Info, InterfaceType, Resolver, Root } from "type-graphql";
import type { GraphQLResolveInfo } from "graphql";
import { toGlobalId, type NodeTypeName } from "./ids.js";

const NODE_TYPE = Symbol("nodeType");

@InterfaceType({
  description: "An object with a global ID.",
  resolveType: (value: Record<symbol, string>) => value[NODE_TYPE],
})
export abstract class Node {
  @Field(() => ID, { description: "Opaque global ID; pass it to `node(id:)` to fetch the object." })
  id!: string;
}

/** Tags a row with its GraphQL type so the Node interface can resolve it. */
export function asNode<T extends object>(type: NodeTypeName, row: T): T {
  return Object.assign(Object.create(null), row, { [NODE_TYPE]: type }) as T;
}

@Resolver(() => Node)
export class NodeIdResolver {
  @FieldResolver(() => ID)
  id(@Root() row: { id: string }, @Info() info: GraphQLResolveInfo): string {
    return toGlobalId(info.parentType.name as NodeTypeName, row.id);
  }
}
