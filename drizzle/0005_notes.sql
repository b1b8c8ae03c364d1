CREATE TABLE "note_addenda" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"center_id" uuid NOT NULL,
	"note_id" uuid NOT NULL,
	"participant_id" uuid,
	"kind" text NOT NULL,
	"text" text NOT NULL,
	"reason" text NOT NULL,
	"author_staff_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_records" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigserial NOT NULL,
	"center_id" uuid NOT NULL,
	"note_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"attendance_id" uuid NOT NULL,
	"date_of_service" date NOT NULL,
	"service_code" text,
	"modifiers" text[] NOT NULL,
	"units" integer NOT NULL,
	"minutes" integer,
	"rendering_staff_id" uuid,
	"supervising_staff_id" uuid,
	"place_of_service" text NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"voided_at" timestamp with time zone,
	"replaces_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_records_units_positive" CHECK ("service_records"."units" > 0)
);
--> statement-breakpoint
CREATE TABLE "session_note_members" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"note_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"participation" text,
	"progress" text,
	"plan" text,
	"risk" text,
	"attendance_status" text,
	"minutes_attended" integer
);
--> statement-breakpoint
CREATE TABLE "session_notes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"status" text DEFAULT 'DRAFT' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"service_code" text,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone NOT NULL,
	"topic" text,
	"interventions" text,
	"group_summary" text,
	"author_staff_id" uuid,
	"signed_at" timestamp with time zone,
	"signed_by_staff_id" uuid,
	"cosigned_at" timestamp with time zone,
	"cosigned_by_staff_id" uuid,
	"late_entry" boolean DEFAULT false NOT NULL,
	"late_entry_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "centers" ADD COLUMN "late_entry_window_days" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "note_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "service_record_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "programs" ADD COLUMN "unit_rule" text DEFAULT 'SESSION' NOT NULL;--> statement-breakpoint
ALTER TABLE "staff" ADD COLUMN "credential" text;--> statement-breakpoint
ALTER TABLE "staff" ADD COLUMN "requires_cosign" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "note_addenda" ADD CONSTRAINT "note_addenda_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "note_addenda" ADD CONSTRAINT "note_addenda_note_id_session_notes_id_fk" FOREIGN KEY ("note_id") REFERENCES "public"."session_notes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "note_addenda" ADD CONSTRAINT "note_addenda_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "note_addenda" ADD CONSTRAINT "note_addenda_author_staff_id_staff_id_fk" FOREIGN KEY ("author_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_note_id_session_notes_id_fk" FOREIGN KEY ("note_id") REFERENCES "public"."session_notes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_attendance_id_attendance_id_fk" FOREIGN KEY ("attendance_id") REFERENCES "public"."attendance"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_rendering_staff_id_staff_id_fk" FOREIGN KEY ("rendering_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_records" ADD CONSTRAINT "service_records_supervising_staff_id_staff_id_fk" FOREIGN KEY ("supervising_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_note_members" ADD CONSTRAINT "session_note_members_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_note_members" ADD CONSTRAINT "session_note_members_note_id_session_notes_id_fk" FOREIGN KEY ("note_id") REFERENCES "public"."session_notes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_note_members" ADD CONSTRAINT "session_note_members_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_author_staff_id_staff_id_fk" FOREIGN KEY ("author_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_signed_by_staff_id_staff_id_fk" FOREIGN KEY ("signed_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "session_notes" ADD CONSTRAINT "session_notes_cosigned_by_staff_id_staff_id_fk" FOREIGN KEY ("cosigned_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "note_addenda_note_idx" ON "note_addenda" USING btree ("note_id","seq");--> statement-breakpoint
CREATE INDEX "note_addenda_participant_idx" ON "note_addenda" USING btree ("participant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "service_records_active_uq" ON "service_records" USING btree ("note_id","participant_id") WHERE "service_records"."status" = 'ACTIVE';--> statement-breakpoint
CREATE INDEX "service_records_center_date_idx" ON "service_records" USING btree ("center_id","date_of_service");--> statement-breakpoint
CREATE INDEX "service_records_participant_idx" ON "service_records" USING btree ("participant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "session_note_members_uq" ON "session_note_members" USING btree ("note_id","participant_id");--> statement-breakpoint
CREATE INDEX "session_note_members_participant_idx" ON "session_note_members" USING btree ("participant_id");--> statement-breakpoint
CREATE UNIQUE INDEX "session_notes_session_uq" ON "session_notes" USING btree ("session_id");--> statement-breakpoint
CREATE INDEX "session_notes_center_idx" ON "session_notes" USING btree ("center_id","status");