// The client operations the tests send, as clients write them (test/operations/*.graphql).
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, print, type OperationDefinitionNode } from "graphql";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../operations");
const cache = new Map<string, Map<string, string>>();

/** The text of one named operation from test/operations/<file>. */
export function operation(file: string, name: string): string {
  let ops = cache.get(file);
  if (!ops) {
    ops = new Map();
    const doc = parse(readFileSync(join(dir, file), "utf8"));
    for (const def of doc.definitions) {
      const op = def as OperationDefinitionNode;
      if (op.name) ops.set(op.name.value, print(op));
    }
    cache.set(file, ops);
  }
  const text = ops.get(name);
  if (!text) throw new Error(`no operation ${name} in ${file}`);
  return text;
}
