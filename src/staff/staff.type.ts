import { Field, ObjectType, registerEnumType } from "type-graphql";
import { Node } from "../common/node.js";
import { DateTime } from "../common/scalars.js";
import { TypePolicy } from "../common/policy.js";

export enum StaffRole {
  ADMIN = "ADMIN",
  CLINICIAN = "CLINICIAN",
  FACILITATOR = "FACILITATOR",
  VIEWER = "VIEWER",
}
registerEnumType(StaffRole, {
  name: "StaffRole",
  description: "A staff member's role at one center.",
  valuesConfig: {
    ADMIN: { description: "Configures the center (programs, groups, staff) and does all clinical work." },
    CLINICIAN: { description: "Participants, enrolment, sessions and attendance." },
    FACILITATOR: { description: "Reads the groups they facilitate and records those groups' attendance." },
    VIEWER: { description: "Reads groups, sessions and counts; never participants' names or notes." },
  },
});

export enum StaffStatus {
  ACTIVE = "ACTIVE",
  INACTIVE = "INACTIVE",
}
registerEnumType(StaffStatus, { name: "StaffStatus", description: "INACTIVE staff cannot sign in." });

// A staff member belongs to no one center: what a link or list shows of them is its own rule.
@TypePolicy({ readableBy: "STAFF", center: null })
@ObjectType({ implements: Node, description: "A clinician, facilitator or admin." })
export class Staff extends Node {
  @Field(() => String)
  email!: string;

  @Field(() => String)
  name!: string;

  @Field(() => Boolean, { description: "Organisation admins may do everything at every center." })
  isOrgAdmin!: boolean;

  @Field(() => StaffStatus)
  status!: StaffStatus;

  @Field(() => DateTime)
  createdAt!: Date;
}

@TypePolicy({ readableBy: "STAFF" })
@ObjectType({ description: "A staff member's role at a center." })
export class StaffMembership {
  @Field(() => StaffRole)
  role!: StaffRole;

  @Field(() => DateTime)
  createdAt!: Date;

  centerId!: string;
  staffId!: string;
}
