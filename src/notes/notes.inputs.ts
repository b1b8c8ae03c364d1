import { Field, ID, InputType, Int } from "type-graphql";
import { MaxItems } from "../common/inputs.js";
import { payloadType } from "../common/payload.js";
import { DateTime } from "../common/scalars.js";
import { NoteAddendum, NoteAddendumKind, Participation, SessionNote } from "./notes.type.js";

@InputType()
export class SessionNoteMemberInput {
  @Field(() => ID, { description: "A member with an attendance record of the session." })
  participantId!: string;

  @Field(() => Participation, { nullable: true })
  participation?: Participation | null;

  @Field(() => String, { nullable: true, description: "Names no other member. An empty string clears it." })
  progress?: string | null;

  @Field(() => String, { nullable: true, description: "Names no other member. An empty string clears it." })
  plan?: string | null;

  @Field(() => String, { nullable: true, description: "Names no other member. An empty string clears it." })
  risk?: string | null;
}

@InputType()
export class SaveSessionNoteInput {
  @Field(() => ID)
  sessionId!: string;

  @Field(() => Int, { nullable: true, description: "Absent on the first save; afterwards the version read (a stale one: CONFLICT)." })
  version?: number | null;

  @Field(() => String, { nullable: true, description: "CPT or HCPCS code; default the program's billing code." })
  serviceCode?: string | null;

  @Field(() => DateTime, { nullable: true, description: "Default: the session's start." })
  startedAt?: Date | null;

  @Field(() => DateTime, { nullable: true, description: "Default: the session's end." })
  endedAt?: Date | null;

  @Field(() => String, { nullable: true, description: "Default: the session's topic. Names no member." })
  topic?: string | null;

  @Field(() => String, { nullable: true, description: "Names no member. An empty string clears it." })
  interventions?: string | null;

  @Field(() => String, { nullable: true, description: "What the group did. Names no member. An empty string clears it." })
  groupSummary?: string | null;

  @MaxItems(200)
  @Field(() => [SessionNoteMemberInput], { nullable: true, description: "Parts to write; members left out keep theirs." })
  members?: SessionNoteMemberInput[] | null;

  @MaxItems(50)
  @Field(() => [String], {
    nullable: true,
    description: 'Words of the texts that match a member\'s name but are not a reference to a person (e.g. "Faith"), as confirmed by the author for this save.',
  })
  reviewedNameMatches?: string[] | null;
}

@InputType()
export class SignSessionNoteInput {
  @Field(() => ID)
  noteId!: string;

  @Field(() => Int, { description: "The version read; a stale one is refused (CONFLICT)." })
  version!: number;

  @Field(() => String, { nullable: true, description: "Required when the note is signed after the center's late-entry window." })
  lateEntryReason?: string | null;
}

@InputType()
export class CosignSessionNoteInput {
  @Field(() => ID)
  noteId!: string;
}

@InputType()
export class AddNoteAddendumInput {
  @Field(() => ID)
  noteId!: string;

  @Field(() => ID, { nullable: true, description: "An addendum to that member's part; absent: to the shared part." })
  participantId?: string | null;

  @Field(() => NoteAddendumKind)
  kind!: NoteAddendumKind;

  @Field(() => String)
  text!: string;

  @Field(() => String)
  reason!: string;

  @MaxItems(50)
  @Field(() => [String], { nullable: true, description: "As in saveSessionNote." })
  reviewedNameMatches?: string[] | null;
}

export const SaveSessionNotePayload = payloadType("SaveSessionNotePayload", "note", () => SessionNote);
export const SignSessionNotePayload = payloadType("SignSessionNotePayload", "note", () => SessionNote);
export const CosignSessionNotePayload = payloadType("CosignSessionNotePayload", "note", () => SessionNote);
export const AddNoteAddendumPayload = payloadType("AddNoteAddendumPayload", "addendum", () => NoteAddendum);
