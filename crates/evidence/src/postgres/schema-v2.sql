-- The modelseal evidence store, schema version 2: what version 1 has, and
-- the cosigned checkpoints kept (`modelseal evidence witness`). Run by
-- `modelseal evidence init` after schema.sql, or by `modelseal evidence
-- init --upgrade` on a version 1 database, as the owner.
--
-- One row per cosigned checkpoint kept, in the order kept: the note with
-- its cosignature lines, the RFC 3161 stamp of its body when one was made,
-- and two hints for finding it (the size it claims, when its quorum had
-- cosigned it, in seconds since the epoch). Nothing here is trusted: every
-- note is checked against the log and the witness policy when read.
-- Writers get SELECT and INSERT; the triggers refuse changes.
CREATE TABLE modelseal_evidence.cosigned (
    position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tree_size bigint NOT NULL CHECK (tree_size >= 0),
    witnessed_at bigint NOT NULL CHECK (witnessed_at >= 0),
    note text NOT NULL CHECK (octet_length(note) <= 65536),
    stamp bytea CHECK (octet_length(stamp) <= 65536),
    kept_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cosigned_by_time ON modelseal_evidence.cosigned (witnessed_at, position);
CREATE INDEX cosigned_by_size ON modelseal_evidence.cosigned (tree_size, position);
REVOKE ALL ON modelseal_evidence.cosigned FROM PUBLIC;

CREATE TRIGGER refuse_row_change BEFORE UPDATE OR DELETE ON modelseal_evidence.cosigned
    FOR EACH ROW EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON modelseal_evidence.cosigned
    FOR EACH STATEMENT EXECUTE FUNCTION modelseal_evidence.refuse_change();
