-- Row-level security and grants for self check-in's tables (src/checkin), as drizzle/0004_rls.sql
-- does for the others: rows of the centers in app.center_ids only. check_in_failures holds no
-- tenant data (counters of failed tries by token hash and address): grants only.
ALTER TABLE "check_in_windows" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "check_in_windows" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "check_in_windows" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "check_ins" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "check_ins" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "check_ins" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON check_in_windows, check_ins, check_in_failures TO recovery_app;
  END IF;
END
$$;
