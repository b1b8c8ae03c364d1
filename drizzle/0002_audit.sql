CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "audit_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" uuid NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor_type" text,
	"actor_id" uuid,
	"center_id" uuid,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" uuid,
	"participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"operation_name" text,
	"request_id" text,
	"outcome" text NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_events_id_unique" UNIQUE("id"),
	CONSTRAINT "audit_events_actor_type" CHECK ("audit_events"."actor_type" in ('STAFF', 'API_CLIENT', 'SYSTEM')),
	CONSTRAINT "audit_events_action" CHECK ("audit_events"."action" in ('READ', 'CREATE', 'UPDATE', 'DELETE', 'EXPORT', 'DENIED')),
	CONSTRAINT "audit_events_outcome" CHECK ("audit_events"."outcome" in ('ALLOWED', 'DENIED', 'ERROR'))
);
--> statement-breakpoint
CREATE INDEX "audit_events_center_idx" ON "audit_events" USING btree ("center_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_participants_idx" ON "audit_events" USING gin ("participant_ids");