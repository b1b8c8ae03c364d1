CREATE TABLE "follow_up_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"center_id" uuid NOT NULL,
	"follow_up_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"actor_staff_id" uuid,
	"from_assignee_staff_id" uuid,
	"to_assignee_staff_id" uuid,
	"outcome" text,
	"note" text,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "follow_ups" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"group_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"absences" integer NOT NULL,
	"status" text DEFAULT 'OPEN' NOT NULL,
	"outcome" text,
	"note" text,
	"opened_at" timestamp with time zone NOT NULL,
	"due_on" date NOT NULL,
	"assignee_staff_id" uuid,
	"returned_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"completed_by_staff_id" uuid,
	"resolved_at" timestamp with time zone,
	"resolution" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "mentorships" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"mentor_id" uuid NOT NULL,
	"mentee_id" uuid NOT NULL,
	"started_on" date NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"started_by_staff_id" uuid,
	"ended_on" date,
	"ended_at" timestamp with time zone,
	"end_reason" text,
	"ended_by_staff_id" uuid,
	CONSTRAINT "mentorships_two_people" CHECK ("mentorships"."mentor_id" <> "mentorships"."mentee_id")
);
--> statement-breakpoint
CREATE TABLE "milestone_celebrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"label" text NOT NULL,
	"due_on" date NOT NULL,
	"celebrated_at" timestamp with time zone NOT NULL,
	"celebrated_by_staff_id" uuid
);
--> statement-breakpoint
CREATE TABLE "recovery_capital_assessments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"center_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"instrument" text NOT NULL,
	"assessed_on" date NOT NULL,
	"items" jsonb NOT NULL,
	"total" integer NOT NULL,
	"recorded_by_staff_id" uuid,
	"recorded_at" timestamp with time zone NOT NULL,
	CONSTRAINT "recovery_capital_total_range" CHECK ("recovery_capital_assessments"."total" between 10 and 60)
);
--> statement-breakpoint
ALTER TABLE "centers" ADD COLUMN "peer_mentor_minimum_days" integer DEFAULT 180 NOT NULL;--> statement-breakpoint
ALTER TABLE "centers" ADD COLUMN "max_mentees_per_mentor" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "participants" ADD COLUMN "celebration_opt_out" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "follow_up_events" ADD CONSTRAINT "follow_up_events_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_up_events" ADD CONSTRAINT "follow_up_events_follow_up_id_follow_ups_id_fk" FOREIGN KEY ("follow_up_id") REFERENCES "public"."follow_ups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_up_events" ADD CONSTRAINT "follow_up_events_actor_staff_id_staff_id_fk" FOREIGN KEY ("actor_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_up_events" ADD CONSTRAINT "follow_up_events_from_assignee_staff_id_staff_id_fk" FOREIGN KEY ("from_assignee_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_up_events" ADD CONSTRAINT "follow_up_events_to_assignee_staff_id_staff_id_fk" FOREIGN KEY ("to_assignee_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_group_id_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."groups"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_assignee_staff_id_staff_id_fk" FOREIGN KEY ("assignee_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "follow_ups" ADD CONSTRAINT "follow_ups_completed_by_staff_id_staff_id_fk" FOREIGN KEY ("completed_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentorships" ADD CONSTRAINT "mentorships_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentorships" ADD CONSTRAINT "mentorships_mentor_id_participants_id_fk" FOREIGN KEY ("mentor_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentorships" ADD CONSTRAINT "mentorships_mentee_id_participants_id_fk" FOREIGN KEY ("mentee_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentorships" ADD CONSTRAINT "mentorships_started_by_staff_id_staff_id_fk" FOREIGN KEY ("started_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "mentorships" ADD CONSTRAINT "mentorships_ended_by_staff_id_staff_id_fk" FOREIGN KEY ("ended_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "milestone_celebrations" ADD CONSTRAINT "milestone_celebrations_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "milestone_celebrations" ADD CONSTRAINT "milestone_celebrations_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "milestone_celebrations" ADD CONSTRAINT "milestone_celebrations_celebrated_by_staff_id_staff_id_fk" FOREIGN KEY ("celebrated_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recovery_capital_assessments" ADD CONSTRAINT "recovery_capital_assessments_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recovery_capital_assessments" ADD CONSTRAINT "recovery_capital_assessments_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recovery_capital_assessments" ADD CONSTRAINT "recovery_capital_assessments_recorded_by_staff_id_staff_id_fk" FOREIGN KEY ("recorded_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "follow_up_events_follow_up_idx" ON "follow_up_events" USING btree ("follow_up_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "follow_ups_open_uq" ON "follow_ups" USING btree ("participant_id","group_id") WHERE "follow_ups"."status" = 'OPEN';--> statement-breakpoint
CREATE INDEX "follow_ups_center_idx" ON "follow_ups" USING btree ("center_id","status","due_on");--> statement-breakpoint
CREATE INDEX "follow_ups_group_idx" ON "follow_ups" USING btree ("group_id","status");--> statement-breakpoint
CREATE INDEX "follow_ups_assignee_idx" ON "follow_ups" USING btree ("assignee_staff_id","status");--> statement-breakpoint
CREATE INDEX "follow_ups_participant_idx" ON "follow_ups" USING btree ("participant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "mentorships_current_uq" ON "mentorships" USING btree ("mentor_id","mentee_id") WHERE "mentorships"."ended_at" is null;--> statement-breakpoint
CREATE INDEX "mentorships_mentor_idx" ON "mentorships" USING btree ("mentor_id");--> statement-breakpoint
CREATE INDEX "mentorships_mentee_idx" ON "mentorships" USING btree ("mentee_id");--> statement-breakpoint
CREATE UNIQUE INDEX "milestone_celebrations_uq" ON "milestone_celebrations" USING btree ("participant_id","kind","label","due_on");--> statement-breakpoint
CREATE INDEX "recovery_capital_participant_idx" ON "recovery_capital_assessments" USING btree ("participant_id","assessed_on");