-- The audit log is append-only (src/audit/): rows go in through audit_append(), which serializes
-- appends on one advisory lock so the hash chain never forks, and UPDATE and DELETE are refused
-- by a trigger, whoever asks (the owner too, unless it drops the trigger). Deployments with a
-- separate owner role also revoke the rights from the application's role (README, "Audit log"):
--   REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM app_role;
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
--> statement-breakpoint
-- Appends a batch (a JSON array of entries, each with the sha256 `digest` of its content computed
-- by the application) to the chain in one statement: takes the chain lock for the transaction,
-- reads the last hash, and links each entry: hash = sha256(prev_hash || digest), in hex.
CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  prev text;
  e jsonb;
  h text;
BEGIN
  PERFORM pg_advisory_xact_lock(7301946128510312);
  SELECT a.hash INTO prev FROM audit_events a ORDER BY a.seq DESC LIMIT 1;
  prev := coalesce(prev, repeat('0', 64));
  FOR e IN SELECT value FROM jsonb_array_elements(entries) LOOP
    h := encode(sha256(convert_to(prev || (e->>'digest'), 'UTF8')), 'hex');
    INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, center_id, action, resource_type, resource_id,
                              participant_ids, operation_name, request_id, outcome, prev_hash, hash)
    VALUES ((e->>'id')::uuid, (e->>'occurredAt')::timestamptz, e->>'actorType', (e->>'actorId')::uuid,
            (e->>'centerId')::uuid, e->>'action', e->>'resourceType', (e->>'resourceId')::uuid,
            ARRAY(SELECT jsonb_array_elements_text(e->'participantIds'))::uuid[], e->>'operationName',
            e->>'requestId', e->>'outcome', prev, h);
    prev := h;
  END LOOP;
END;
$$;
