import { Field, ID, InputType, Int } from "type-graphql";
import { payloadType } from "../common/payload.js";
import { DateScalar, LocalTime } from "../common/scalars.js";
import { Center } from "../centers/center.type.js";
import { Participant } from "../participants/participant.type.js";
import { ContactDetail, ReminderChannel, SmsConsentSource } from "./reminder.type.js";

@InputType()
export class UpdateReminderSettingsInput {
  @Field(() => ID)
  centerId!: string;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => [Int], { nullable: true, description: "1 to 4 lead times, each 15 minutes to 7 days (10080). Absent: unchanged (default [1440, 120])." })
  leadTimesMinutes?: number[] | null;

  @Field(() => String, { nullable: true, description: 'Absent: unchanged; empty: back to the neutral "Appointment reminder".' })
  senderName?: string | null;

  @Field(() => String, { nullable: true, description: "E.164 (or a national number of the center's country); empty clears it." })
  callbackPhone?: string | null;

  @Field(() => LocalTime, { nullable: true })
  quietHoursStart?: string | null;

  @Field(() => LocalTime, { nullable: true })
  quietHoursEnd?: string | null;
}

@InputType()
export class SmsConsentInput {
  @Field(() => SmsConsentSource)
  source!: SmsConsentSource;

  @Field(() => DateScalar, { description: "The day the member gave it; not in the future." })
  givenOn!: string;
}

@InputType()
export class SetContactPreferencesInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => String, { nullable: true, description: "Needed for EMAIL." })
  email?: string | null;

  @Field(() => String, { nullable: true, description: "E.164, e.g. +16175550123; needed for SMS." })
  phone?: string | null;

  @Field(() => [ReminderChannel])
  channels!: ReminderChannel[];

  @Field(() => SmsConsentInput, { nullable: true, description: "Needed for SMS (SMS_CONSENT_REQUIRED); absent: the one recorded stays." })
  smsConsent?: SmsConsentInput | null;

  @Field(() => ContactDetail, { nullable: true, description: "Default MINIMAL." })
  detail?: ContactDetail | null;
}

@InputType()
export class SetReminderOptOutInput {
  @Field(() => ID)
  participantId!: string;

  @Field(() => ReminderChannel)
  channel!: ReminderChannel;

  @Field(() => Boolean, { description: "true: the member asked staff to stop this channel; false: they asked to resume it." })
  optedOut!: boolean;
}

export const UpdateReminderSettingsPayload = payloadType("UpdateReminderSettingsPayload", "center", () => Center);
export const SetContactPreferencesPayload = payloadType("SetContactPreferencesPayload", "participant", () => Participant);
export const SetReminderOptOutPayload = payloadType("SetReminderOptOutPayload", "participant", () => Participant);
