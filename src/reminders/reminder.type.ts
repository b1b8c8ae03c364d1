// The reminders' GraphQL types: a center's settings, a participant's contact preferences and the
// reminders themselves. Contact details and reminders are participant data (CLINICAL, audited);
// the settings are the center's configuration.
import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { Policy, TypePolicy } from "../common/policy.js";
import { DateScalar, DateTime, LocalTime } from "../common/scalars.js";
import { contactPreferences, reminders } from "../db/schema.js";

export enum ReminderChannel {
  EMAIL = "EMAIL",
  SMS = "SMS",
}
registerEnumType(ReminderChannel, { name: "ReminderChannel" });

export enum ReminderStatus {
  PENDING = "PENDING",
  SENDING = "SENDING",
  SENT = "SENT",
  DELIVERED = "DELIVERED",
  FAILED = "FAILED",
  SKIPPED = "SKIPPED",
  CANCELLED = "CANCELLED",
}
registerEnumType(ReminderStatus, {
  name: "ReminderStatus",
  valuesConfig: {
    PENDING: { description: "Planned; the outbox sends it at dueAt (or when quiet hours end)." },
    SENDING: { description: "Handed to the provider; its answer is awaited." },
    SENT: { description: "Accepted by the provider." },
    DELIVERED: { description: "The provider reported it delivered (SMS)." },
    FAILED: { description: "Every try failed, or the provider reported it undelivered: see failureReason." },
    SKIPPED: { description: "Not sent, by a rule: see skipReason." },
    CANCELLED: { description: "No longer wanted (the session was cancelled, the enrolment ended, the member checked in): see skipReason." },
  },
});

export enum ReminderSkipReason {
  NO_CHANNEL = "NO_CHANNEL",
  OPTED_OUT = "OPTED_OUT",
  QUIET_HOURS = "QUIET_HOURS",
  FREQUENCY_CAP = "FREQUENCY_CAP",
  SESSION_CANCELLED = "SESSION_CANCELLED",
  SESSION_STARTED = "SESSION_STARTED",
  ENROLLMENT_ENDED = "ENROLLMENT_ENDED",
  CHECKED_IN = "CHECKED_IN",
  CHANNEL_REMOVED = "CHANNEL_REMOVED",
  REMINDERS_OFF = "REMINDERS_OFF",
}
registerEnumType(ReminderSkipReason, {
  name: "ReminderSkipReason",
  valuesConfig: {
    NO_CHANNEL: { description: "This server has no sender for the channel (no SMTP_URL, or no SMS provider)." },
    OPTED_OUT: { description: "The member opted out of the channel (STOP, an unsubscribe link, or staff)." },
    QUIET_HOURS: { description: "Due inside quiet hours, which end after the session starts." },
    FREQUENCY_CAP: { description: "The member already had one SMS that day, or three in the 7 days ending that day (center's zone)." },
    SESSION_CANCELLED: { description: "The session was cancelled." },
    SESSION_STARTED: { description: "The session had started (or moved earlier) before it could go out." },
    ENROLLMENT_ENDED: { description: "The member's enrolment ended." },
    CHECKED_IN: { description: "The member already checked in." },
    CHANNEL_REMOVED: { description: "Staff removed the channel from the member's preferences." },
    REMINDERS_OFF: { description: "The center turned reminders off." },
  },
});

export enum ContactDetail {
  MINIMAL = "MINIMAL",
  WITH_GROUP_NAME = "WITH_GROUP_NAME",
}
registerEnumType(ContactDetail, {
  name: "ContactDetail",
  valuesConfig: {
    MINIMAL: { description: "Name, day and time, sender name and callback number: nothing that reveals treatment." },
    WITH_GROUP_NAME: { description: "Also the group's name and its location or virtual link (the member asked for it)." },
  },
});

export enum SmsConsentSource {
  VERBAL = "VERBAL",
  WRITTEN = "WRITTEN",
  ELECTRONIC = "ELECTRONIC",
}
registerEnumType(SmsConsentSource, { name: "SmsConsentSource" });

export enum OptOutVia {
  SMS_REPLY = "SMS_REPLY",
  UNSUBSCRIBE_LINK = "UNSUBSCRIBE_LINK",
  STAFF = "STAFF",
}
registerEnumType(OptOutVia, { name: "OptOutVia", description: "How a member opted out: a STOP reply, an email's unsubscribe link, or staff." });

@ObjectType({ description: "How a center's reminders go out. Read by anyone at the center; set by its admins." })
@TypePolicy({ readableBy: "CENTER" })
export class ReminderSettings {
  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => [Int], { description: "Minutes before a session's start; one reminder per lead time and channel." })
  leadTimesMinutes!: number[];

  @Policy({ readableBy: "CENTER" })
  @Field(() => String, { description: 'Signs every message; neutral by default ("Appointment reminder").' })
  senderName!: string;

  @Policy({ readableBy: "CENTER" })
  @Field(() => String, { nullable: true, description: "The number members call back (E.164)." })
  callbackPhone!: string | null;

  @Field(() => LocalTime, { description: "Nothing is sent from this time (center's zone)..." })
  quietHoursStart!: string;

  @Field(() => LocalTime, { description: "...until this time; the period crosses midnight when it starts later than it ends." })
  quietHoursEnd!: string;
}

@ObjectType({ description: "A member's opt-out of one channel." })
@TypePolicy({ readableBy: "CLINICAL" })
export class ChannelOptOut {
  @Field(() => ReminderChannel)
  channel!: ReminderChannel;

  @Field(() => DateTime)
  at!: Date;

  @Field(() => OptOutVia)
  via!: OptOutVia;
}

@ObjectType({ description: "How a participant wants to be reminded (clinical staff)." })
@TypePolicy({ readableBy: "CLINICAL", audit: { participants: [contactPreferences.participantId], resourceId: null } })
export class ContactPreferences {
  @Field(() => [ReminderChannel])
  channels!: ReminderChannel[];

  @Policy({ readableBy: "CLINICAL" })
  @Field(() => String, { nullable: true })
  email!: string | null;

  @Policy({ readableBy: "CLINICAL" })
  @Field(() => String, { nullable: true, description: "E.164." })
  phone!: string | null;

  @Field(() => SmsConsentSource, { nullable: true })
  smsConsentSource!: SmsConsentSource | null;

  @Field(() => DateScalar, { nullable: true })
  smsConsentGivenOn!: string | null;

  @Field(() => ContactDetail)
  detail!: ContactDetail;

  @Field(() => [ChannelOptOut], { description: "Channels the member opted out of; an opt-out wins over `channels`." })
  optedOut!: ChannelOptOut[];
}

@ObjectType({ description: "One reminder of one session, to one member, by one channel, at one lead time." })
@TypePolicy({ readableBy: "CLINICAL", audit: { participants: [reminders.participantId] } })
export class Reminder {
  @Field(() => ReminderChannel)
  channel!: ReminderChannel;

  @Field(() => ReminderStatus)
  status!: ReminderStatus;

  @Field(() => ReminderSkipReason, { nullable: true, description: "Why it was SKIPPED or CANCELLED." })
  skipReason!: ReminderSkipReason | null;

  @Field(() => Int, { description: "Minutes before the session's start it is due." })
  leadMinutes!: number;

  @Field(() => DateTime, { description: "The session's start minus the lead time." })
  dueAt!: Date;

  @Field(() => DateTime, { nullable: true })
  sentAt!: Date | null;

  @Policy({ readableBy: "CLINICAL" })
  @Field(() => String, { nullable: true, description: "The provider's reason, when FAILED." })
  failureReason!: string | null;

  @Field(() => Int, { description: "Sends tried." })
  attempts!: number;
}
