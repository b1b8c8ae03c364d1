import type { ModuleDefinition } from "../common/module.js";
import { reminderLoaders } from "./reminder.loaders.js";
import {
  CenterReminderSettingsResolver,
  ContactPreferencesResolver,
  ParticipantRemindersResolver,
  ReminderResolver,
  SessionRemindersResolver,
} from "./reminder.resolver.js";

export const remindersModule: ModuleDefinition<{ reminders: ReturnType<typeof reminderLoaders> }> = {
  name: "reminders",
  resolvers: [ReminderResolver, ContactPreferencesResolver, CenterReminderSettingsResolver, ParticipantRemindersResolver, SessionRemindersResolver],
  loaders: { reminders: (db) => reminderLoaders(db) },
};
