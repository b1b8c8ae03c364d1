// Modules register themselves (src/modules.ts): what a module's files declare reaches the app only
// through its definition, so forgetting a line there must fail here, not in production.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isInterfaceType } from "graphql";
import { describe, expect, it } from "vitest";
import { modules } from "../src/modules.js";
import { createSchema } from "../src/schema.js";

const src = join(dirname(fileURLToPath(import.meta.url)), "../src");

/** Every class exported by a src/<module>/*.resolver.ts file, by name, with its file. */
async function resolverClasses(): Promise<Array<{ file: string; name: string; value: unknown }>> {
  const found: Array<{ file: string; name: string; value: unknown }> = [];
  for (const dir of readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(src, dir.name)).filter((f) => f.endsWith(".resolver.ts"))) {
      const exported = (await import(pathToFileURL(join(src, dir.name, file)).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(exported)) {
        if (typeof value === "function" && name.endsWith("Resolver")) found.push({ file: `${dir.name}/${file}`, name, value });
      }
    }
  }
  return found;
}

describe("the list of modules", () => {
  it("registers every resolver class of src/ exactly once, in the module of its folder (node/ is the composition's own)", async () => {
    const classes = await resolverClasses();
    expect(classes.length).toBeGreaterThan(40);
    const unregistered: string[] = [];
    for (const { file, name, value } of classes) {
      if (file.startsWith("node/")) continue;
      const owners = modules.filter((m) => (m.resolvers as readonly unknown[]).includes(value));
      if (owners.length !== 1 || owners[0].name !== file.split("/")[0])
        unregistered.push(`${file}: ${name} (in ${owners.map((m) => m.name).join(", ") || "no module"})`);
    }
    expect(unregistered).toEqual([]);
  });

  it("gives node(id:) a loader and a visibility for every type that implements Node, each declared by one module", async () => {
    const schema = await createSchema();
    const node = schema.getType("Node");
    if (!isInterfaceType(node)) throw new Error("no Node interface");
    const implementations = schema
      .getPossibleTypes(node)
      .map((t) => t.name)
      .sort();
    const declared = modules.flatMap((m) => (m.nodeTypes ?? []).map((t) => t.typeName)).sort();
    expect(declared).toEqual(implementations);
  });

  it("names each module once, after its folder, and gives every loader key to one module only", () => {
    const names = modules.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    const folders = new Set(
      readdirSync(src, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name),
    );
    expect(names.filter((n) => !folders.has(n))).toEqual([]);
    const keys = modules.flatMap((m) => Object.keys(m.loaders ?? {}));
    expect(new Set(keys).size).toBe(keys.length);
  });
});
