import { asc, inArray, sql } from "drizzle-orm";
import { connectionLoader, listLoader, mapLoader } from "../common/loaders.js";
import { loadPages } from "../common/relay.js";
import type { Db } from "../db/client.js";
import { contactPreferences, reminderSettings, reminders, type ContactPreferencesRow, type ReminderRow, type ReminderSettingsRow } from "../db/schema.js";

export function reminderLoaders(db: Db) {
  return {
    /** A center's settings row; null: never set (the defaults). */
    settingsByCenter: mapLoader<ReminderSettingsRow | null>(
      async (ids) =>
        new Map(
          (
            await db
              .select()
              .from(reminderSettings)
              .where(inArray(reminderSettings.centerId, [...ids]))
          ).map((r) => [r.centerId, r]),
        ),
      () => null,
    ),
    preferencesByParticipant: mapLoader<ContactPreferencesRow | null>(
      async (ids) =>
        new Map(
          (
            await db
              .select()
              .from(contactPreferences)
              .where(inArray(contactPreferences.participantId, [...ids]))
          ).map((r) => [r.participantId, r]),
        ),
      () => null,
    ),
    /** Every reminder of a session, by member, earliest due first. */
    bySession: listLoader<ReminderRow>(
      (ids) =>
        db
          .select()
          .from(reminders)
          .where(inArray(reminders.sessionId, [...ids]))
          .orderBy(asc(reminders.participantId), asc(reminders.dueAt), asc(reminders.channel)),
      (r) => r.sessionId,
    ),
    /** A member's reminders, newest (latest due) first. */
    byParticipant: connectionLoader<null, ReminderRow>((participantIds, _f, win) =>
      loadPages<ReminderRow>(
        db,
        {
          select: reminders,
          from: reminders,
          parent: reminders.participantId,
          parentIds: participantIds,
          orderBy: sql`${reminders.dueAt} desc, ${reminders.id} desc`,
          orderByDesc: sql`${reminders.dueAt}, ${reminders.id}`,
        },
        win,
      ),
    ),
  };
}
