-- Row-level security and grants for the reminders' tables (src/reminders), as drizzle/0004_rls.sql
-- does for the others: rows of the centers in app.center_ids only ('all': the worker, start-up).
ALTER TABLE "reminder_settings" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "reminder_settings" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "reminder_settings" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "contact_preferences" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "contact_preferences" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "contact_preferences" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "reminders" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "reminders" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "reminders" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON reminder_settings, contact_preferences, reminders TO recovery_app;
  END IF;
END
$$;
