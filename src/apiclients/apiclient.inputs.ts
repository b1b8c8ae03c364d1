import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { UserError } from "../common/errors.js";
import { TypePolicy } from "../common/policy.js";
import { ApiClient, ApiScope } from "./apiclient.type.js";

@InputType()
export class CreateApiClientInput {
  @Field(() => String)
  name!: string;

  @Field(() => [ID], { description: "Its centers: one for a center admin; several for organisation admins." })
  centerIds!: string[];

  @Field(() => [ApiScope])
  scopes!: ApiScope[];
}

@InputType()
export class RevokeApiClientInput {
  @Field(() => ID)
  apiClientId!: string;
}

@InputType()
export class RotateApiClientKeyInput {
  @Field(() => ID)
  apiClientId!: string;

  @Field(() => Int, { nullable: true, description: "Minutes the old keys keep working (0..10080, default 1440: a day)." })
  overlapMinutes?: number | null;
}

@TypePolicy({ readableBy: "CALLER" })
@ObjectType({ description: "The new client and its key. The key is shown here only: store it now." })
export class CreateApiClientPayload {
  @Field(() => ApiClient, { nullable: true })
  apiClient!: ApiClient | null;

  @Field(() => String, { nullable: true, description: "`rg_live_…`: send it as `Authorization: Bearer <key>`. Never shown again." })
  apiKey!: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@TypePolicy({ readableBy: "CALLER" })
@ObjectType()
export class RevokeApiClientPayload {
  @Field(() => ApiClient, { nullable: true })
  apiClient!: ApiClient | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

@TypePolicy({ readableBy: "CALLER" })
@ObjectType({ description: "The new key, shown here only; the old keys work until the overlap ends." })
export class RotateApiClientKeyPayload {
  @Field(() => ApiClient, { nullable: true })
  apiClient!: ApiClient | null;

  @Field(() => String, { nullable: true })
  apiKey!: string | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
