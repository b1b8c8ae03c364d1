CREATE TABLE "engagement_sessions" (
	"session_id" uuid PRIMARY KEY NOT NULL,
	"center_id" uuid NOT NULL,
	"expected" integer DEFAULT 0 NOT NULL,
	"attended" integer DEFAULT 0 NOT NULL,
	"missed" integer DEFAULT 0 NOT NULL,
	"excused" integer DEFAULT 0 NOT NULL,
	"unrecorded" integer DEFAULT 0 NOT NULL,
	"dirty" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "engagement_states" (
	"participant_id" uuid PRIMARY KEY NOT NULL,
	"center_id" uuid NOT NULL,
	"expected" integer DEFAULT 0 NOT NULL,
	"attended" integer DEFAULT 0 NOT NULL,
	"missed" integer DEFAULT 0 NOT NULL,
	"excused" integer DEFAULT 0 NOT NULL,
	"unrecorded" integer DEFAULT 0 NOT NULL,
	"consecutive_misses" integer DEFAULT 0 NOT NULL,
	"current_streak" integer DEFAULT 0 NOT NULL,
	"last_attended_at" double precision,
	"a28" integer DEFAULT 0 NOT NULL,
	"m28" integer DEFAULT 0 NOT NULL,
	"ap" integer DEFAULT 0 NOT NULL,
	"mp" integer DEFAULT 0 NOT NULL,
	"trend" text DEFAULT 'UNKNOWN' NOT NULL,
	"risk_level" text DEFAULT 'LOW' NOT NULL,
	"computed_through" timestamp with time zone,
	"next_recheck_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "engagement_sessions" ADD CONSTRAINT "engagement_sessions_session_id_sessions_id_fk" FOREIGN KEY ("session_id") REFERENCES "public"."sessions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagement_sessions" ADD CONSTRAINT "engagement_sessions_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagement_states" ADD CONSTRAINT "engagement_states_participant_id_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."participants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "engagement_states" ADD CONSTRAINT "engagement_states_center_id_centers_id_fk" FOREIGN KEY ("center_id") REFERENCES "public"."centers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "engagement_sessions_dirty_idx" ON "engagement_sessions" USING btree ("session_id") WHERE "engagement_sessions"."dirty";--> statement-breakpoint
CREATE INDEX "engagement_states_risk_idx" ON "engagement_states" USING btree ("center_id","risk_level");--> statement-breakpoint
CREATE INDEX "engagement_states_recheck_idx" ON "engagement_states" USING btree ("next_recheck_at");