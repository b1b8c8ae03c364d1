// The schema's own rules: every root field declares who may call it (@Authorized), the printed
// schema matches the committed schema/schema.graphql, every object with an id is a Node, every
// mutation takes one `input` and returns a payload with userErrors, and every connection bounds
// its page size.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  getNamedType,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
  type GraphQLField,
} from "graphql";
import { getMetadataStorage } from "type-graphql";
import { describe, expect, it } from "vitest";
import { toGlobalId } from "../src/common/ids.js";
import { AUDIENCES, effectivePolicy } from "../src/common/policy.js";
import { createSchema } from "../src/schema.js";
import { asOrgAdmin } from "./support/fixtures.js";
import { useTestServer } from "./support/server.js";

const t = useTestServer();

const schemaFile = join(dirname(fileURLToPath(import.meta.url)), "../schema/schema.graphql");

type Declared = Array<{ target: Function; fieldName?: string }>;

/**
 * The Query and Mutation fields whose resolver method carries no @Authorized (nor its class).
 * `declared` is type-graphql's authorizedFields metadata (class-level declarations also count).
 */
function undeclaredRootFields(schema: GraphQLSchema, declared: Declared): string[] {
  const storage = getMetadataStorage();
  const offenders: string[] = [];
  for (const [typeName, handlers] of [
    ["Query", storage.queries],
    ["Mutation", storage.mutations],
  ] as const) {
    const type = typeName === "Query" ? schema.getQueryType() : schema.getMutationType();
    for (const field of Object.keys(type?.getFields() ?? {})) {
      const handler = handlers.find((h) => h.schemaName === field);
      if (!handler) {
        offenders.push(`${typeName}.${field} (no resolver metadata)`);
        continue;
      }
      const onMethod = declared.some((a) => a.target === handler.target && a.fieldName === handler.methodName);
      const onClass = storage.authorizedResolver.some((a) => a.target === handler.target);
      if (!onMethod && !onClass) offenders.push(`${typeName}.${field} (${handler.target.name}.${handler.methodName})`);
    }
  }
  return offenders;
}

const rootFieldsOf = (schema: GraphQLSchema) => [
  ...Object.keys(schema.getQueryType()!.getFields()).map((f) => `Query.${f}`),
  ...Object.keys(schema.getMutationType()?.getFields() ?? {}).map((f) => `Mutation.${f}`),
];

const objectTypes = (schema: GraphQLSchema): GraphQLObjectType[] =>
  Object.values(schema.getTypeMap()).filter((ty): ty is GraphQLObjectType => isObjectType(ty) && !ty.name.startsWith("__"));

/** Types whose objects are people: a field returning one (or a connection of them) identifies a person. */
const PERSON_TYPES = new Set(["Staff", "Participant"]);

/**
 * Fields carrying free text (String) or a person's identity that do not declare who may read them
 * (Policy/TypePolicy `readableBy`, src/common/policy.ts). Root types are covered by @Authorized; payloads answer the
 * caller of their own mutation; connection plumbing is declared on the field returning it.
 */
function undeclaredTextFields(schema: GraphQLSchema): string[] {
  const roots = new Set([schema.getQueryType()?.name, schema.getMutationType()?.name, schema.getSubscriptionType()?.name]);
  const offenders: string[] = [];
  for (const type of objectTypes(schema)) {
    if (roots.has(type.name) || /(Payload|Connection|Edge)$/.test(type.name) || type.name === "PageInfo") continue;
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      const nodeType = isObjectType(named) && named.name.endsWith("Connection") ? getNamedType(named.getFields().nodes?.type) : named;
      const carries = named.name === "String" || PERSON_TYPES.has(nodeType.name);
      if (!carries) continue;
      const declared = effectivePolicy(type, field).readableBy;
      if (!declared || !AUDIENCES.includes(declared)) offenders.push(`${type.name}.${field.name}`);
    }
  }
  return offenders;
}

describe("schema", () => {
  it("declares who may read every field carrying free text or a person's identity (Policy)", async () => {
    const schema = await createSchema();
    expect(undeclaredTextFields(schema)).toEqual([]);
    const declared = (type: string, field: string) => {
      const ty = schema.getType(type) as GraphQLObjectType;
      return effectivePolicy(ty, ty.getFields()[field]).readableBy;
    };
    // The clinical notes and end reasons are declared clinical; staff links follow node(id:)
    expect([declared("Enrollment", "endReason"), declared("EnrollmentEvent", "reason"), declared("Attendance", "note")]).toEqual([
      "CLINICAL",
      "CLINICAL",
      "CLINICAL",
    ]);
    expect([declared("EnrollmentEvent", "actor"), declared("Attendance", "recordedBy"), declared("Group", "facilitators")]).toEqual([
      "STAFF",
      "STAFF",
      "STAFF",
    ]);
  });

  it("names a new text field or person link that declares no reader", () => {
    // Given a type with a declared name, an undeclared free-text note and an undeclared staff link
    const Staff = new GraphQLObjectType({ name: "Staff", fields: { id: { type: GraphQLString } } });
    const Note = new GraphQLObjectType({
      name: "FollowUp",
      fields: {
        title: { type: GraphQLString, extensions: { policy: { readableBy: "GROUP" } } },
        note: { type: GraphQLString },
        assignee: { type: Staff },
        misdeclared: { type: GraphQLString, extensions: { policy: { readableBy: "EVERYONE" } } },
      },
    });
    const schema = new GraphQLSchema({ query: new GraphQLObjectType({ name: "Query", fields: { followUp: { type: Note } } }) });
    // Then the walk names each undeclared one
    expect(undeclaredTextFields(schema)).toEqual(["FollowUp.note", "FollowUp.assignee", "FollowUp.misdeclared", "Staff.id"]);
  });

  it("declares who may call every Query and Mutation field (@Authorized)", async () => {
    const schema = await createSchema();
    expect(rootFieldsOf(schema).length).toBeGreaterThan(20);
    expect(undeclaredRootFields(schema, getMetadataStorage().authorizedFields)).toEqual([]);
  });

  it("names the root field whose @Authorized is missing", async () => {
    // Given the metadata without the declaration on recordAttendance
    const schema = await createSchema();
    const storage = getMetadataStorage();
    const handler = storage.mutations.find((m) => m.schemaName === "recordAttendance")!;
    const without = storage.authorizedFields.filter((a) => !(a.target === handler.target && a.fieldName === handler.methodName));
    // Then the check fails, naming it
    expect(undeclaredRootFields(schema, without)).toEqual([`Mutation.recordAttendance (${handler.target.name}.${handler.methodName})`]);
  });

  it("prints exactly the committed schema/schema.graphql (run `npm run schema` after changing it)", async () => {
    const printed = printSchema(lexicographicSortSchema(await createSchema())) + "\n";
    const committed = readFileSync(schemaFile, "utf8");
    expect(printed, "schema/schema.graphql is stale: run `npm run schema` and commit it").toBe(committed);
  });

  it("makes every object type with `id: ID!` implement Node, and node(id) knows each of them", async () => {
    const schema = await createSchema();
    const withId = objectTypes(schema).filter((ty) => ty.getFields().id && String(ty.getFields().id.type) === "ID!");
    const notNodes = withId.filter((ty) => !ty.getInterfaces().some((i) => i.name === "Node")).map((ty) => ty.name);
    expect(notNodes).toEqual([]);
    const node = schema.getType("Node");
    expect(isInterfaceType(node)).toBe(true);
    const implementations = schema
      .getPossibleTypes(node as never)
      .map((ty) => ty.name)
      .sort();
    expect(implementations).toEqual(withId.map((ty) => ty.name).sort());
    expect(implementations).toEqual([
      "ApiClient",
      "Attendance",
      "Center",
      "Consent",
      "Enrollment",
      "FollowUp",
      "Group",
      "Mentorship",
      "Participant",
      "Program",
      "RecoveryCapitalAssessment",
      "Session",
      "Staff",
    ]);
  });

  it("gives every mutation exactly one argument `input: <Name>Input!` and a payload with `userErrors: [UserError!]!`", async () => {
    const schema = await createSchema();
    const offenders: string[] = [];
    for (const field of Object.values(schema.getMutationType()!.getFields())) {
      const Name = field.name[0].toUpperCase() + field.name.slice(1);
      const args = field.args.map((a) => `${a.name}: ${String(a.type)}`);
      if (args.length !== 1 || args[0] !== `input: ${Name}Input!`) offenders.push(`${field.name}(${args.join(", ")})`);
      const payload = getNamedType(field.type);
      const userErrors = isObjectType(payload) ? payload.getFields().userErrors : undefined;
      if (!isNonNullType(field.type) || !isObjectType(payload) || String(userErrors?.type) !== "[UserError!]!") {
        offenders.push(`${field.name}: ${String(field.type)} (userErrors: ${String(userErrors?.type)})`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("gives every connection field first/after/last/before", async () => {
    const schema = await createSchema();
    const offenders: string[] = [];
    for (const { parent, field } of connectionFields(schema)) {
      const args = Object.fromEntries(field.args.map((a) => [a.name, String(a.type)]));
      const want = { first: "Int", after: "String", last: "Int", before: "String" };
      for (const [name, type] of Object.entries(want)) {
        if (args[name] !== type) offenders.push(`${parent}.${field.name}: ${name} is ${args[name]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});

function connectionFields(schema: GraphQLSchema): Array<{ parent: string; field: GraphQLField<unknown, unknown> }> {
  return objectTypes(schema).flatMap((ty) =>
    Object.values(ty.getFields())
      .filter((f) => getNamedType(f.type).name.endsWith("Connection"))
      .map((field) => ({ parent: ty.name, field })),
  );
}

describe("connection page bounds over HTTP", () => {
  async function world() {
    const admin = await asOrgAdmin(t.server);
    const centerId = await admin.createCenter("Harbor House", "UTC");
    const { program } = await admin.mutate("createProgram", { centerId, name: "Relapse prevention" }, "program { id }");
    const { group } = await admin.mutate(
      "createGroup",
      {
        programId: program.id,
        name: "Tuesday",
        capacity: 5,
        startsOn: "2025-01-07",
        schedule: { daysOfWeek: ["TUESDAY"], startTime: "18:00", durationMinutes: 60 },
      },
      "group { id }",
    );
    const { participant } = await admin.mutate("createParticipant", { centerId, firstName: "Ana", lastName: "Alvarez" }, "participant { id }");
    const staffId = (await admin.query(`{ viewer { id } }`)).viewer.id;
    return { admin, ids: { Center: centerId, Program: program.id, Group: group.id, Participant: participant.id, Staff: staffId } as Record<string, string> };
  }

  const GROUPS = `query($id: ID!, $first: Int, $last: Int) { center(id: $id) { groups(first: $first, last: $last) { totalCount } } }`;

  it("refuses center.groups with first: 0, first: 101 or last: 101 (BAD_USER_INPUT)", async () => {
    const { admin, ids } = await world();
    for (const page of [{ first: 0 }, { first: 101 }, { last: 101 }, { last: 0 }, { first: -1 }]) {
      const res = await t.server.gql(GROUPS, { id: ids.Center, ...page }, { token: admin.token });
      expect(
        res.errors?.map((e) => e.extensions?.code),
        JSON.stringify(page),
      ).toEqual(["BAD_USER_INPUT"]);
      expect(res.errors?.[0].path, JSON.stringify(page)).toEqual(["center", "groups"]);
    }
  });

  it("answers center.groups with first: 1, first: 100 and last: 100", async () => {
    const { admin, ids } = await world();
    for (const page of [{ first: 1 }, { first: 100 }, { last: 100 }]) {
      const res = await t.server.gql(GROUPS, { id: ids.Center, ...page }, { token: admin.token });
      expect(res.errors, JSON.stringify(page)).toBeUndefined();
      expect(res.data.center.groups.totalCount).toBe(1);
    }
  });

  it("answers nodes(ids) with up to 100 ids and refuses 101 as BAD_USER_INPUT", async () => {
    const org = await asOrgAdmin(t.server);
    const ids = (n: number) => Array.from({ length: n }, () => toGlobalId("Center", randomUUID()));
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`;
    const ok = await t.server.gql(query, { ids: ids(100) }, { token: org.token });
    expect(ok.errors).toBeUndefined();
    expect(ok.data.nodes).toHaveLength(100);
    const tooMany = await t.server.gql(query, { ids: ids(101) }, { token: org.token });
    expect(tooMany.data).toBeNull();
    expect(tooMany.errors?.map((e) => e.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
  });

  it("bounds first and last on every connection field of the schema", async () => {
    // Given an object of every type that has a connection field
    const { admin, ids } = await world();
    const schema = await createSchema();
    const fields = connectionFields(schema);
    expect(fields.map((f) => `${f.parent}.${f.field.name}`)).toEqual(
      expect.arrayContaining(["Query.centers", "Center.groups", "Center.participants", "Group.enrollments", "Participant.attendance"]),
    );
    const wrong: string[] = [];
    for (const { parent, field } of fields) {
      const call = (args: string) => `${field.name}(${args}) { totalCount }`;
      const doc = (args: string) => (parent === "Query" ? `{ ${call(args)} }` : `query($id: ID!) { node(id: $id) { ... on ${parent} { ${call(args)} } } }`);
      if (parent !== "Query" && !ids[parent]) {
        wrong.push(`${parent}.${field.name}: the test world has no ${parent}; add one`);
        continue;
      }
      // When each asks for too few or too many items
      for (const args of ["first: 0", "first: 101", "last: 101"]) {
        const res = await t.server.gql(doc(args), { id: ids[parent] }, { token: admin.token });
        const codes = res.errors?.map((e) => e.extensions?.code);
        // Then it is refused as bad input
        if (codes?.length !== 1 || codes[0] !== "BAD_USER_INPUT") wrong.push(`${parent}.${field.name}(${args}): ${JSON.stringify(res.errors ?? res.data)}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
