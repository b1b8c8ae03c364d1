-- Row-level security and grants for the kept engagement figures and session counts (src/engagement), as
-- drizzle/0004_rls.sql does for the others: rows of the centers in app.center_ids only ('all': the
-- worker, start-up). No backfill here: the engagement worker's first pass gives every participant
-- and session without a row a dirty one and computes it (src/engagement/engagement.worker.ts); until
-- then the reads compute those figures themselves.
ALTER TABLE "engagement_states" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "engagement_states" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "engagement_states" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "engagement_sessions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "engagement_sessions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "engagement_sessions" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    GRANT SELECT, INSERT, UPDATE, DELETE ON engagement_states, engagement_sessions TO recovery_app;
  END IF;
END
$$;
