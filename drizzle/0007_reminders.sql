CREATE TABLE "contact_preferences" (
	"participant_id" uuid PRIMARY KEY NOT NULL,
	"center_id" uuid NOT NULL,
	"email" text,
	"phone" text,
	"channels" text[] DEFAULT '{}'::text[] NOT NULL,
	"sms_consent_source" text,
	"sms_consent_given_on" date,
	"detail" text DEFAULT 'MINIMAL' NOT NULL,
	"email_opted_out_at" timestamp with time zone,
	"email_opted_out_via" text,
	"sms_opted_out_at" timestamp with time zone,
	"sms_opted_out_via" text,
	"unsubscribe_token" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by_staff_id" uuid
);
--> statement-breakpoint
CREATE TABLE "reminder_settings" (
	"center_id" uuid PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"lead_times_minutes" integer[] DEFAULT '{1440,120}'::integer[] NOT NULL,
	"sender_name" text DEFAULT 'Appointment reminder' NOT NULL,
	"callback_phone" text,
	"quiet_hours_start" text DEFAULT '21:00' NOT NULL,
	"quiet_hours_end" text DEFAULT '08:00' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by_staff_id" uuid
);
--> statement-breakpoint
CREATE TABLE "reminders" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"center_id" uuid NOT NULL,
	"session_id" uuid NOT NULL,
	"participant_id" uuid NOT NULL,
	"lead_minutes" integer NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"skip_reason" text,
	"due_at" timestamp with time zone NOT NULL,
	"next_attempt_at" timestamp with time zone NOT NULL,
	"lease_until" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_at" timestamp with time zone,
	"sent_at" timestamp with time zone,
	"failure_reason" text,
	"provider_message_id" text,
	"provider_status" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contact_preferences" ADD CONSTRAINT "contact_preferences_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_preferences" ADD CONSTRAINT "contact_preferences_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_preferences" ADD CONSTRAINT "contact_preferences_updated_by_staff_id_staff_id_fk" FOREIGN KEY ("updated_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminder_settings" ADD CONSTRAINT "reminder_settings_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminder_settings" ADD CONSTRAINT "reminder_settings_updated_by_staff_id_staff_id_fk" FOREIGN KEY ("updated_by_staff_id") REFERENCES "public"."staff"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminders" ADD CONSTRAINT "reminders_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "contact_preferences_unsubscribe_uq" ON "contact_preferences" USING btree ("unsubscribe_token");--> statement-breakpoint
CREATE INDEX "contact_preferences_phone_idx" ON "contact_preferences" USING btree ("phone");--> statement-breakpoint
CREATE UNIQUE INDEX "reminders_key_uq" ON "reminders" USING btree ("session_id","participant_id","lead_minutes","channel");--> statement-breakpoint
CREATE INDEX "reminders_outbox_idx" ON "reminders" USING btree ("next_attempt_at") WHERE "reminders"."status" in ('PENDING', 'SENDING');--> statement-breakpoint
CREATE INDEX "reminders_participant_idx" ON "reminders" USING btree ("participant_id","due_at");--> statement-breakpoint
CREATE INDEX "reminders_provider_idx" ON "reminders" USING btree ("provider_message_id");