import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { TypePolicy } from "../common/policy.js";
import { DateTime } from "../common/scalars.js";

export enum ApiScope {
  ATTENDANCE_READ = "ATTENDANCE_READ",
  PARTICIPANT_READ = "PARTICIPANT_READ",
}
registerEnumType(ApiScope, {
  name: "ApiScope",
  description: "What an API client may read at its centers, always only for participants whose consent names it.",
  valuesConfig: {
    ATTENDANCE_READ: { description: "The attendance feed: attendance, sessions, groups, and of a participant only `id` and `externalId`." },
    PARTICIPANT_READ: { description: "Adds a participant's names and date of birth." },
  },
});

@TypePolicy({ readableBy: "CENTER" })
@ObjectType({ implements: Node, description: "A system (EHR, billing, state reporting) that reads a center's attendance with an API key." })
export class ApiClient extends Node {
  @Field(() => String)
  name!: string;

  @Field(() => [ApiScope])
  scopes!: ApiScope[];

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime, { nullable: true, description: "Set when revoked: its keys are refused from the next request on." })
  revokedAt!: Date | null;
}

@TypePolicy({ readableBy: "CENTER" })
@ObjectType({ description: "One key of an API client. The key itself is shown once, when made; only its prefix is kept visible." })
export class ApiKeyInfo {
  @Field(() => String, { description: "`rg_live_` and the first characters of the key, to tell keys apart." })
  prefix!: string;

  @Field(() => DateTime)
  createdAt!: Date;

  @Field(() => DateTime, { nullable: true, description: "When a rotated-away key stops working; null for the current key." })
  expiresAt!: Date | null;

  @Field(() => DateTime, { nullable: true, description: "Last request made with the key (to the minute)." })
  lastUsedAt!: Date | null;
}
