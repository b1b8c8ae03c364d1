import { Field, ID, InputType } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { Staff, StaffRole, StaffStatus } from "./staff.type.js";

@InputType()
export class MembershipInput {
  @Field(() => ID)
  centerId!: string;

  @Field(() => StaffRole)
  role!: StaffRole;
}

@InputType()
export class CreateStaffInput {
  @Field(() => String, { description: "Unique, case-insensitive." })
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true, description: "The identity provider's subject (`sub`); defaults to the email." })
  authSubject?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Org admins only may set this." })
  isOrgAdmin?: boolean | null;

  @Field(() => [MembershipInput], { nullable: true })
  memberships?: MembershipInput[] | null;

  @Field(() => String, {
    nullable: true,
    description: 'Professional credential, free text: "LCSW", "CADC-I", "Peer Recovery Specialist". An empty string clears it.',
  })
  credential?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Whether notes this person signs wait for a clinician's or admin's co-signature." })
  requiresCosign?: boolean | null;
}

@InputType()
export class UpdateStaffInput {
  @Field(() => ID)
  staffId!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  email?: string | null;

  @Field(() => StaffStatus, { nullable: true })
  status?: StaffStatus | null;

  @Field(() => Boolean, { nullable: true })
  isOrgAdmin?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: 'Professional credential, free text: "LCSW", "CADC-I", "Peer Recovery Specialist". An empty string clears it.',
  })
  credential?: string | null;

  @Field(() => Boolean, { nullable: true, description: "Whether notes this person signs wait for a clinician's or admin's co-signature." })
  requiresCosign?: boolean | null;
}

@InputType()
export class SetStaffMembershipInput {
  @Field(() => ID)
  staffId!: string;

  @Field(() => ID)
  centerId!: string;

  @Field(() => StaffRole)
  role!: StaffRole;
}

@InputType()
export class RemoveStaffMembershipInput {
  @Field(() => ID)
  staffId!: string;

  @Field(() => ID)
  centerId!: string;
}

export const CreateStaffPayload = payloadType("CreateStaffPayload", "staff", () => Staff);
export const UpdateStaffPayload = payloadType("UpdateStaffPayload", "staff", () => Staff);
export const SetStaffMembershipPayload = payloadType("SetStaffMembershipPayload", "staff", () => Staff);
export const RemoveStaffMembershipPayload = payloadType("RemoveStaffMembershipPayload", "staff", () => Staff);
