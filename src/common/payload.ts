// Mutation payloads: `{ <object>, userErrors }`, built by one factory and filled by one helper.
import { Field, ObjectType, type ClassType } from "type-graphql";
import { UserError, UserInputError } from "./errors.js";
import { TypePolicy } from "./policy.js";

/** Declares `<Name>Payload { <field>: <type>, userErrors: [UserError!]! }`. */
export function payloadType(name: string, field: string, type: () => ClassType | [ClassType], description?: string) {
  // A payload answers the caller of its mutation; the objects in it carry their own policies.
  @TypePolicy({ readableBy: "CALLER" })
  @ObjectType(name, { description })
  class Payload {
    @Field(() => [UserError])
    userErrors!: UserError[];
  }
  const t = type();
  const isList = Array.isArray(t);
  Field(() => t, { nullable: true })(Payload.prototype, field);
  void isList;
  return Payload;
}

export type Payload<K extends string, T> = { [P in K]: T | null } & { userErrors: UserError[] };

/**
 * Runs a service call; input refusals (thrown inside its transaction, which rolled back) become
 * the payload's userErrors. Anything else propagates and is masked by the server.
 */
export async function mutate<K extends string, T>(key: K, run: () => Promise<T>): Promise<Payload<K, T>> {
  try {
    const value = await run();
    return { [key]: value, userErrors: [] } as Payload<K, T>;
  } catch (err) {
    if (err instanceof UserInputError) return { [key]: null, userErrors: err.errors } as Payload<K, T>;
    throw err;
  }
}
