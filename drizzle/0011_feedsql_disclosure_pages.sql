ALTER TABLE "disclosures" DROP CONSTRAINT "disclosures_participant_id_participants_id_fk";
--> statement-breakpoint
DROP INDEX "disclosures_participant_idx";--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "attendance_participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "note_participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
ALTER TABLE "disclosures" ADD COLUMN "service_record_participant_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL;--> statement-breakpoint
CREATE INDEX "disclosures_participants_idx" ON "disclosures" USING gin ("participant_ids");--> statement-breakpoint
CREATE INDEX "disclosures_center_idx" ON "disclosures" USING btree ("center_id","disclosed_at");--> statement-breakpoint
-- Rows written before this migration held one participant's records each: every record is theirs.
UPDATE "disclosures" SET
  "participant_ids" = ARRAY["participant_id"],
  "attendance_participant_ids" = array_fill("participant_id", ARRAY[cardinality("attendance_ids")]),
  "note_participant_ids" = array_fill("participant_id", ARRAY[cardinality("note_ids")]),
  "service_record_participant_ids" = array_fill("participant_id", ARRAY[cardinality("service_record_ids")]);--> statement-breakpoint
ALTER TABLE "disclosures" DROP COLUMN "participant_id";