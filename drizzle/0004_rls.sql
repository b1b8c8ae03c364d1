-- Row-level security: defence in depth behind the access policy (src/auth/access.ts). Every tenant
-- table (every table with center_id, and centers by id) shows and accepts only rows of the centers
-- in the setting app.center_ids: 'all' (organisation admins, start-up, scripts), or a comma-separated
-- list of center ids (set per request by src/db/scope.ts). Unset or empty: no rows.
-- FORCE applies the policies to the tables' owner too; only superusers and BYPASSRLS roles skip
-- them, so the API must connect as neither (README, "Row-level security").
-- The settings are read through scalar subqueries, so PostgreSQL evaluates them once per statement
-- (an InitPlan), not once per row.
CREATE OR REPLACE FUNCTION rls_all_centers() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.center_ids', true) = 'all', false)
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION rls_center_ids() RETURNS uuid[] LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN coalesce(current_setting('app.center_ids', true), '') IN ('', 'all') THEN '{}'::uuid[]
              ELSE string_to_array(current_setting('app.center_ids', true), ',')::uuid[] END
$$;
--> statement-breakpoint
ALTER TABLE "centers" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "centers" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "centers" USING ((SELECT rls_all_centers()) OR id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "staff_memberships" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "staff_memberships" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "staff_memberships" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "programs" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "programs" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "programs" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "groups" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "groups" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "groups" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "group_facilitators" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "group_facilitators" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "group_facilitators" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "participants" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "participants" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "participants" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "enrollments" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "enrollments" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "enrollments" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "enrollment_events" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "enrollment_events" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "enrollment_events" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "sessions" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "sessions" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "sessions" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "attendance" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "attendance" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "attendance" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "attendance_history" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "attendance_history" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "attendance_history" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "follow_ups" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "follow_ups" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "follow_ups" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "follow_up_events" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "follow_up_events" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "follow_up_events" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "milestone_celebrations" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "milestone_celebrations" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "milestone_celebrations" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "mentorships" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "mentorships" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "mentorships" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "recovery_capital_assessments" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "recovery_capital_assessments" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "recovery_capital_assessments" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "api_client_centers" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "api_client_centers" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "api_client_centers" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "consents" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "consents" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "consents" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "attendance_changes" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "attendance_changes" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "attendance_changes" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
ALTER TABLE "disclosures" ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE "disclosures" FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY center_isolation ON "disclosures" USING ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[])) WITH CHECK ((SELECT rls_all_centers()) OR center_id = ANY ((SELECT rls_center_ids())::uuid[]));
--> statement-breakpoint
-- audit_events is the one table with center_id and no policy: entries of no center (org-level
-- refusals) are appended from any request, and the log is read only through auditEvents, which
-- scopes it (src/audit). It is append-only instead (drizzle/0003_audit_grants.sql, and below).
-- The role the API's login role joins (GRANT recovery_app TO <login>): the data, not the schema.
-- Created here when the migrating role may create roles; otherwise an operator creates it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    CREATE ROLE recovery_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
EXCEPTION
  WHEN duplicate_object OR unique_violation THEN NULL;
  WHEN insufficient_privilege THEN RAISE NOTICE 'recovery_app not created (no CREATEROLE): create it and grant it the tables';
END
$$;
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO recovery_app', current_database());
    GRANT USAGE ON SCHEMA public TO recovery_app;
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO recovery_app;
    GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO recovery_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO recovery_app;
    ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO recovery_app;
    -- The audit log is append-only for the API (the trigger refuses it for everyone as well).
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM recovery_app;
  END IF;
END
$$;
