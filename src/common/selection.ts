// What a request asks of the object a field resolves to: the names of the fields selected on it
// (through fragments too, whatever their type condition: a superset), so that a loader may read
// fewer columns when nothing else is asked.
import { Kind, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

function collect(info: GraphQLResolveInfo, set: SelectionSetNode | undefined, into: Set<string>): void {
  for (const sel of set?.selections ?? []) {
    if (sel.kind === Kind.FIELD) into.add(sel.name.value);
    else if (sel.kind === Kind.INLINE_FRAGMENT) collect(info, sel.selectionSet, into);
    else collect(info, info.fragments[sel.name.value]?.selectionSet, into);
  }
}

/** Whether every field selected on the resolved object is one of `allowed`. */
export function selectsOnly(info: GraphQLResolveInfo, allowed: ReadonlySet<string>): boolean {
  const fields = new Set<string>();
  for (const node of info.fieldNodes) collect(info, node.selectionSet, fields);
  for (const f of fields) if (!allowed.has(f)) return false;
  return true;
}
