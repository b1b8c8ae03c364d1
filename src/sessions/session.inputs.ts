import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar, DateTime } from "../common/scalars.js";
import { Session } from "./session.type.js";

@InputType()
export class ScheduleSessionsInput {
  @Field(() => ID)
  groupId!: string;

  @Field(() => DateScalar, { description: "First day, in the center's time zone (inclusive)." })
  from!: string;

  @Field(() => DateScalar, { description: "Last day, inclusive; the range spans at most 366 days." })
  to!: string;
}

@InputType()
export class CancelSessionInput {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => String, { nullable: true })
  reason?: string | null;
}

@InputType()
export class CompleteSessionInput {
  @Field(() => ID)
  sessionId!: string;
}

@InputType()
export class UpdateSessionInput {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => String, { nullable: true, description: "An empty string clears it." })
  topic?: string | null;

  @Field(() => DateTime, { nullable: true })
  startsAt?: Date | null;

  @Field(() => DateTime, { nullable: true })
  endsAt?: Date | null;
}

export const ScheduleSessionsPayload = payloadType("ScheduleSessionsPayload", "sessions", () => [Session]);
export const CancelSessionPayload = payloadType("CancelSessionPayload", "session", () => Session);
export const CompleteSessionPayload = payloadType("CompleteSessionPayload", "session", () => Session);
export const UpdateSessionPayload = payloadType("UpdateSessionPayload", "session", () => Session);
