CREATE TABLE "check_in_failures" (
	"key" text PRIMARY KEY NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"failures" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "check_in_windows" (
	"session_id" uuid PRIMARY KEY NOT NULL,
	"center_id" uuid NOT NULL,
	"opens_at" timestamp with time zone NOT NULL,
	"closes_at" timestamp with time zone NOT NULL,
	"opened_by_staff_id" uuid,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "check_ins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"checked_in_at" timestamp with time zone NOT NULL,
	"late" boolean NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"decided_by_staff_id" uuid,
	"decided_at" timestamp with time zone,
	CONSTRAINT "check_ins_status" CHECK ("check_ins"."status" in ('PENDING', 'ACCEPTED', 'REJECTED'))
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_actor_type";--> statement-breakpoint
ALTER TABLE "centers" ADD COLUMN "check_in_opens_minutes_before" integer DEFAULT 30 NOT NULL;--> statement-breakpoint
ALTER TABLE "centers" ADD COLUMN "check_in_closes_minutes_after" integer DEFAULT 20 NOT NULL;--> statement-breakpoint
ALTER TABLE "check_in_windows" ADD CONSTRAINT "check_in_windows_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_in_windows" ADD CONSTRAINT "check_in_windows_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_in_windows" ADD CONSTRAINT "check_in_windows_opened_by_staff_id_staff_id_fk" FOREIGN KEY ("opened_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "check_ins" ADD CONSTRAINT "check_ins_decided_by_staff_id_staff_id_fk" FOREIGN KEY ("decided_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "check_ins_session_participant_uq" ON "check_ins" USING btree ("session_id","participant_id");--> statement-breakpoint
CREATE INDEX "check_ins_participant_idx" ON "check_ins" USING btree ("participant_id");--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_actor_type" CHECK ("audit_events"."actor_type" in ('STAFF', 'API_CLIENT', 'SYSTEM', 'PARTICIPANT', 'ANONYMOUS'));