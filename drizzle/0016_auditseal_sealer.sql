-- Audit without the chain's lock (issue 22, src/audit/): requests insert their entries unchained
-- through audit_append() (no lock, no read of the previous hash), stamped with their transaction
-- (tx); one elected sealer chains the committed entries below the transaction horizon with
-- audit_seal(). The table stays append-only: the trigger refuses every DELETE, and every UPDATE
-- but the one sealing of an unsealed row (its chain_seq, prev_hash and hash, set once, to the
-- right link). audit_seal() is SECURITY DEFINER, so the API's role needs no UPDATE right at all.

-- Entries chained before this migration keep their links: their position is their old order.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only;
--> statement-breakpoint
UPDATE audit_events a SET chain_seq = o.n FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM audit_events) o WHERE a.seq = o.seq;
--> statement-breakpoint
ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- The sealing of an unsealed entry: nothing but the seal columns changes, the hash links the
  -- entry's digest to the previous position's hash (64 zeros before the first).
  IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND (NEW.seq, NEW.id, NEW.tx, NEW.occurred_at, NEW.actor_type, NEW.actor_id, NEW.client_address, NEW.center_id, NEW.action,
          NEW.resource_type, NEW.resource_id, NEW.participant_ids, NEW.operation_name, NEW.request_id, NEW.outcome, NEW.digest)
         IS NOT DISTINCT FROM
         (OLD.seq, OLD.id, OLD.tx, OLD.occurred_at, OLD.actor_type, OLD.actor_id, OLD.client_address, OLD.center_id, OLD.action,
          OLD.resource_type, OLD.resource_id, OLD.participant_ids, OLD.operation_name, OLD.request_id, OLD.outcome, OLD.digest)
     AND NEW.prev_hash IS NOT DISTINCT FROM (CASE WHEN NEW.chain_seq = 1 THEN repeat('0', 64)
                                             ELSE (SELECT p.hash FROM audit_events p WHERE p.chain_seq = NEW.chain_seq - 1) END)
     AND NEW.hash = encode(sha256(convert_to(NEW.prev_hash || OLD.digest, 'UTF8')), 'hex') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- A request's entries (a JSON array, each with the sha256 `digest` of its content computed by the
-- application), inserted unchained in the request's own transaction: no lock, no read.
CREATE OR REPLACE FUNCTION audit_append(entries jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(entries) e WHERE NOT coalesce(e->>'digest' ~ '^[0-9a-f]{64}$', false)) THEN
    RAISE EXCEPTION 'audit_append: an entry without its digest' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO audit_events (id, occurred_at, actor_type, actor_id, client_address, center_id, action, resource_type, resource_id,
                            participant_ids, operation_name, request_id, outcome, digest)
  SELECT (e->>'id')::uuid, (e->>'occurredAt')::timestamptz, e->>'actorType', (e->>'actorId')::uuid, e->>'clientAddress',
         (e->>'centerId')::uuid, e->>'action', e->>'resourceType', (e->>'resourceId')::uuid,
         ARRAY(SELECT jsonb_array_elements_text(e->'participantIds'))::uuid[], e->>'operationName', e->>'requestId', e->>'outcome',
         e->>'digest'
  FROM jsonb_array_elements(entries) AS e;
END;
$$;
--> statement-breakpoint
-- Chains up to `batch` committed entries: those of transactions older than every running one
-- (tx < pg_snapshot_xmin, as the feed's horizon), in (tx, seq) order, after the last sealed
-- position: chain_seq + 1, prev_hash = the last hash, hash = sha256(prev_hash || digest), hex.
-- Only the session holding the sealer's advisory lock (pg_try_advisory_lock(7301, 46128),
-- src/audit/audit.sealer.ts) may call it. Returns how many entries it sealed.
CREATE OR REPLACE FUNCTION audit_seal(batch integer) RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_catalog AS $$
DECLARE
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  last_seq bigint;
  prev text;
  h text;
  r record;
  n integer := 0;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = 7301 AND l.objid = 46128 AND l.objsubid = 2
                 AND l.pid = pg_backend_pid() AND l.granted) THEN
    RAISE EXCEPTION 'audit_seal: this session is not the elected sealer' USING ERRCODE = 'lock_not_available';
  END IF;
  SELECT a.chain_seq, a.hash INTO last_seq, prev FROM audit_events a WHERE a.chain_seq IS NOT NULL ORDER BY a.chain_seq DESC LIMIT 1;
  last_seq := coalesce(last_seq, 0);
  prev := coalesce(prev, repeat('0', 64));
  FOR r IN SELECT a.seq, a.digest FROM audit_events a WHERE a.chain_seq IS NULL AND a.tx < horizon ORDER BY a.tx, a.seq LIMIT batch LOOP
    last_seq := last_seq + 1;
    h := encode(sha256(convert_to(prev || r.digest, 'UTF8')), 'hex');
    UPDATE audit_events SET chain_seq = last_seq, prev_hash = prev, hash = h WHERE seq = r.seq;
    prev := h;
    n := n + 1;
  END LOOP;
  RETURN n;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION audit_checkpoints_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_checkpoints is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_checkpoints_refuse_change();
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'recovery_app') THEN
    GRANT SELECT, INSERT ON audit_checkpoints TO recovery_app;
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_checkpoints FROM recovery_app;
  END IF;
END
$$;
