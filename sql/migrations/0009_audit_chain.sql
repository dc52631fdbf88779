-- The audit log a regulator can trust: append-only for every credential (a trigger refuses UPDATE,
-- DELETE and TRUNCATE, whoever asks, owner and superuser included; privileges are revoked as well) and
-- tamper-evident (each row carries the SHA-256 of its content and of the row before it, in the order
-- rows were appended; `linkwatch db check` recomputes the chain, so a row edited or deleted with the
-- triggers switched off is found). And a read-only role that can run every read command, audited.

ALTER TABLE audit_log ADD COLUMN chain_seq bigint;
ALTER TABLE audit_log ADD COLUMN prev_hash bytea;
ALTER TABLE audit_log ADD COLUMN row_hash bytea;

-- What a row's hash covers, in one place (the trigger and `db check` both use it).
CREATE FUNCTION audit_row_hash(prev bytea, seq bigint, at timestamptz, actor text, action text,
                               target text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(
        coalesce(prev, ''::bytea)
        || convert_to(
            seq::text || E'\x1f' || to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')
            || E'\x1f' || actor || E'\x1f' || action || E'\x1f' || coalesce('T' || target, 'N')
            || E'\x1f' || detail::text,
            'UTF8'))
$$;

-- The rows already there, chained in the order they were written.
DO $$
DECLARE
    r record;
    prev bytea := NULL;
    n bigint := 0;
BEGIN
    FOR r IN SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id LOOP
        n := n + 1;
        UPDATE audit_log
        SET chain_seq = n, prev_hash = prev,
            row_hash = audit_row_hash(prev, n, r.at, r.actor, r.action, r.target, r.detail)
        WHERE id = r.id;
        SELECT row_hash INTO prev FROM audit_log WHERE id = r.id;
    END LOOP;
END
$$;

ALTER TABLE audit_log ALTER COLUMN chain_seq SET NOT NULL;
ALTER TABLE audit_log ALTER COLUMN row_hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_chain ON audit_log (chain_seq);

-- Appending: one writer at a time (a transaction-scoped lock, so the chain cannot fork), the next
-- sequence number and the hash of the row before. SECURITY DEFINER: a read-only investigator's
-- searches are audited too, without that role being able to read who searched for what.
CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last_seq bigint;
    last_hash bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('linkwatch-audit-log'));
    SELECT chain_seq, row_hash INTO last_seq, last_hash FROM audit_log ORDER BY chain_seq DESC LIMIT 1;
    NEW.at := now();
    NEW.chain_seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := last_hash;
    NEW.row_hash := audit_row_hash(last_hash, NEW.chain_seq, NEW.at, NEW.actor, NEW.action, NEW.target,
                                   NEW.detail);
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- The read-only role (migration 0002) can run every read command: they check the migrations, read
-- the shown status and the search copy, and append their own audit row.
GRANT SELECT ON schema_migrations, sighting_texts, sighting_text_queue TO linkwatch_readonly;
GRANT INSERT ON audit_log TO linkwatch_readonly;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO linkwatch_readonly;

-- Analysts: everything an investigator reads, plus triage decisions (a review row, the link's status).
-- Each analyst logs in as their own role IN ROLE linkwatch_analyst, so the two-person rule counts
-- people, not names typed on a command line. (Roles are cluster-wide: tolerate one made before.)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'linkwatch_analyst') THEN
        CREATE ROLE linkwatch_analyst NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;
GRANT linkwatch_readonly TO linkwatch_analyst;
GRANT INSERT ON reviews TO linkwatch_analyst;
GRANT USAGE ON SEQUENCE reviews_id_seq TO linkwatch_analyst;
GRANT UPDATE (status, category) ON links TO linkwatch_analyst;
