-- Row-level security and grants for the notes tables (src/notes/), as drizzle/0004_rls.sql does for the
-- tables before them: rows of the centers in app.center_ids only, for the tables' owner too.
ALTER TABLE "session_notes" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "session_notes" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "session_notes" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "session_note_members" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "session_note_members" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "session_note_members" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "note_addenda" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "note_addenda" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "note_addenda" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "service_records" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "service_records" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "service_records" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
-- The API's role gets the new tables (default privileges cover tables made by the role that set
-- them; granted here all the same, whoever migrates). Addenda are append-only: a signed note is
-- never changed, nor is what was added to it.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON session_notes, session_note_members, service_records TO recovery_app;
    GRANT SELECT, INSERT ON note_addenda TO recovery_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON note_addenda FROM recovery_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO recovery_app;
  END IF;
END
$$;
