// Who may read a field that carries free text or identifies a person. Every such field declares
// it with @ReadableBy (test/schema.test.ts walks the schema and fails on a field without one), so
// a new text field cannot ship without someone deciding who reads it. The declaration documents
// the rule the resolver (or the object's own gate) enforces:
//   CENTER    anyone with a role at the center (center.read)
//   GROUP     anyone who may see the group (group.read; facilitators only their groups)
//   CLINICAL  participant.read: clinical staff and the group's facilitators; FORBIDDEN to VIEWERs
//   STAFF     whoever `node(id:)` shows that staff member to (colleagues at a shared center, org
//             admins); a link to anyone else answers null (or is left out of a list)
//   CALLER    the caller's own input echoed back (UserError)
//   ADMIN     org admins, and center admins for their centers (the audit log)
import { Extensions } from "type-graphql";

export type Audience = "CENTER" | "GROUP" | "CLINICAL" | "STAFF" | "CALLER" | "ADMIN";
export const AUDIENCES: readonly Audience[] = ["CENTER", "GROUP", "CLINICAL", "STAFF", "CALLER", "ADMIN"];

export const ReadableBy = (audience: Audience) => Extensions({ readableBy: audience });
