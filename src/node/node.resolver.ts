// Query.node / Query.nodes: fetch any object by global id, through the Node types the modules
// declare (src/modules.ts: how to load one, whether the viewer may see it). Whatever is outside
// the viewer's reach answers null, exactly as an id that does not exist.
import { Arg, Authorized, Ctx, ID, Query, Resolver } from "type-graphql";
import { badInput } from "../common/errors.js";
import type { Context } from "../common/context.js";
import { Policy } from "../common/policy.js";
import { fromGlobalId } from "../common/ids.js";
import type { AnyNodeType } from "../common/module.js";
import { asNode, Node } from "../common/node.js";
import { modules } from "../modules.js";

const nodeTypes = new Map<string, AnyNodeType>();
for (const module of modules) {
  for (const type of module.nodeTypes ?? []) {
    if (nodeTypes.has(type.typeName)) throw new Error(`Two modules declare the Node type ${type.typeName}`);
    nodeTypes.set(type.typeName, type);
  }
}

async function loadNode(ctx: Context, globalId: string): Promise<object | null> {
  const parsed = fromGlobalId(globalId);
  const type = parsed && nodeTypes.get(parsed.type);
  if (!parsed || !type) return null;
  const row = (await type.load(ctx, parsed.id)) as object | null;
  return row && (await type.visible(ctx, row)) ? asNode(type.typeName, row) : null;
}

const MAX_NODES = 100;

@Resolver()
export class NodeResolver {
  @Authorized()
  // Whatever it finds answers as its own type declares.
  @Policy({ readableBy: "CALLER" })
  @Query(() => Node, { nullable: true, description: "Any object by its global id; null when missing or out of reach." })
  node(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    return loadNode(ctx, id);
  }

  @Authorized()
  @Policy({ readableBy: "CALLER" })
  @Query(() => [Node], { nullable: "items", description: "Up to 100 objects by global id, in order." })
  async nodes(@Arg("ids", () => [ID]) ids: string[], @Ctx() ctx: Context) {
    if (ids.length > MAX_NODES) throw badInput(`Ask for at most ${MAX_NODES} ids at a time`, "ids");
    return Promise.all(ids.map((id) => loadNode(ctx, id)));
  }
}
