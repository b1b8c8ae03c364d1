import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import type { Context } from "../common/context.js";
import { forbidden } from "../common/errors.js";
import { mutate } from "../common/payload.js";
import { Policy } from "../common/policy.js";
import { connectionType, ConnectionArgs, pageWindow } from "../common/relay.js";
import { Center } from "../centers/center.type.js";
import type { CenterRow, ContactPreferencesRow, ParticipantRow, ReminderRow, SessionRow } from "../db/schema.js";
import { readableParticipant } from "../participants/participant.service.js";
import { Participant } from "../participants/participant.type.js";
import { Session } from "../sessions/session.type.js";
import {
  SetContactPreferencesInput,
  SetContactPreferencesPayload,
  SetReminderOptOutInput,
  SetReminderOptOutPayload,
  UpdateReminderSettingsInput,
  UpdateReminderSettingsPayload,
} from "./reminder.inputs.js";
import { DEFAULT_SETTINGS, optOutsOf, setContactPreferences, setReminderOptOut, updateReminderSettings } from "./reminder.service.js";
import { ChannelOptOut, ContactPreferences, Reminder, ReminderSettings } from "./reminder.type.js";

const ReminderConnection = connectionType(Reminder, "Reminder");

@Resolver(() => Reminder)
export class ReminderResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => Participant)
  participant(@Root() r: ReminderRow, @Ctx() ctx: Context) {
    return readableParticipant(ctx, r.participantId);
  }

  @FieldResolver(() => Session)
  session(@Root() r: ReminderRow, @Ctx() ctx: Context) {
    return ctx.loaders.sessions.byId.load(r.sessionId);
  }

  @Authorized()
  @Policy({ audit: null })
  @Mutation(() => UpdateReminderSettingsPayload, { description: "Turns a center's reminders on or off and sets how they go out (admins)." })
  updateReminderSettings(@Arg("input", () => UpdateReminderSettingsInput) input: UpdateReminderSettingsInput, @Ctx() ctx: Context) {
    return mutate("center", () => updateReminderSettings(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => SetContactPreferencesPayload, { description: "Records how a participant wants to be reminded (clinical staff)." })
  setContactPreferences(@Arg("input", () => SetContactPreferencesInput) input: SetContactPreferencesInput, @Ctx() ctx: Context) {
    return mutate("participant", () => setContactPreferences(ctx, input));
  }

  @Authorized()
  @Policy({ audit: "UPDATE" })
  @Mutation(() => SetReminderOptOutPayload, { description: "Records that a member asked staff to stop (or resume) reminders by one channel." })
  setReminderOptOut(@Arg("input", () => SetReminderOptOutInput) input: SetReminderOptOutInput, @Ctx() ctx: Context) {
    return mutate("participant", () => setReminderOptOut(ctx, input));
  }
}

@Resolver(() => ContactPreferences)
export class ContactPreferencesResolver {
  @FieldResolver(() => [ChannelOptOut])
  optedOut(@Root() p: ContactPreferencesRow) {
    return optOutsOf(p);
  }
}

@Resolver(() => Center)
export class CenterReminderSettingsResolver {
  @FieldResolver(() => ReminderSettings, { description: "How the center's session reminders go out (defaults until an admin sets them: off)." })
  async reminderSettings(@Root() center: CenterRow, @Ctx() ctx: Context) {
    return (await ctx.loaders.reminders.settingsByCenter.load(center.id)) ?? { ...DEFAULT_SETTINGS, centerId: center.id };
  }
}

@Resolver(() => Participant)
export class ParticipantRemindersResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => ContactPreferences, { nullable: true, description: "How the participant wants to be reminded; null until recorded." })
  contactPreferences(@Root() p: ParticipantRow, @Ctx() ctx: Context) {
    return ctx.loaders.reminders.preferencesByParticipant.load(p.id);
  }

  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => ReminderConnection, { description: "The participant's reminders, latest due first, with why one was not sent." })
  reminders(@Root() p: ParticipantRow, @Args(() => ConnectionArgs) args: ConnectionArgs, @Ctx() ctx: Context) {
    return ctx.loaders.reminders.byParticipant.load(p.id, null, pageWindow(args));
  }
}

@Resolver(() => Session)
export class SessionRemindersResolver {
  @Policy({ readableBy: "CLINICAL" })
  @FieldResolver(() => [Reminder], {
    nullable: true,
    description: "What was planned and sent for the session, to whom, how, and what became of it (clinical staff and the group's facilitators).",
  })
  async reminders(@Root() s: SessionRow, @Ctx() ctx: Context) {
    if (!ctx.access.can("participant.read", { centerId: s.centerId, groupIds: [s.groupId] })) {
      throw forbidden("Your role does not allow reading members' reminders");
    }
    return ctx.loaders.reminders.bySession.load(s.id);
  }
}
