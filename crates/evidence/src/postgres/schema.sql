-- The modelseal evidence store, schema version 1: created once by
-- `modelseal evidence init`, run as the administrator role that is to own
-- the tables. Appends never run DDL.
--
-- Roles: the owner (the administrator) may do anything a table owner may,
-- and is trusted not to; writers get USAGE on the schema and SELECT and
-- INSERT on records and checkpoints (SELECT on meta); readers get USAGE and
-- SELECT. Nobody gets UPDATE, DELETE or TRUNCATE, and row and statement
-- triggers refuse them even to the owner. `evidence verify` recomputes
-- every leaf hash from the record bytes, so whatever is changed behind
-- these walls is still found.
CREATE SCHEMA modelseal_evidence;
REVOKE ALL ON SCHEMA modelseal_evidence FROM PUBLIC;

-- Which evidence key the log belongs to (the origin prefix of its key).
CREATE TABLE modelseal_evidence.meta (
    schema_version integer NOT NULL,
    key_origin text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per record: the exact line bytes (without newline), their RFC
-- 6962 leaf index and leaf hash.
CREATE TABLE modelseal_evidence.records (
    leaf_index bigint PRIMARY KEY CHECK (leaf_index >= 0),
    record bytea NOT NULL,
    leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32),
    appended_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX records_by_leaf_hash ON modelseal_evidence.records (leaf_hash);

-- One row per append: the signed checkpoint (C2SP signed note, the same
-- bytes a file log keeps beside it) and the tree's frontier (the roots of
-- its perfect subtrees, 32 bytes each), so an append costs O(log n).
CREATE TABLE modelseal_evidence.checkpoints (
    tree_size bigint PRIMARY KEY CHECK (tree_size >= 0),
    note text NOT NULL,
    frontier bytea NOT NULL CHECK (octet_length(frontier) % 32 = 0),
    written_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON ALL TABLES IN SCHEMA modelseal_evidence FROM PUBLIC;

CREATE FUNCTION modelseal_evidence.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'modelseal evidence is append-only: % on %.% refused',
        TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER refuse_row_change BEFORE UPDATE OR DELETE ON modelseal_evidence.records
    FOR EACH ROW EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON modelseal_evidence.records
    FOR EACH STATEMENT EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_row_change BEFORE UPDATE OR DELETE ON modelseal_evidence.checkpoints
    FOR EACH ROW EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON modelseal_evidence.checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_row_change BEFORE UPDATE OR DELETE ON modelseal_evidence.meta
    FOR EACH ROW EXECUTE FUNCTION modelseal_evidence.refuse_change();
CREATE TRIGGER refuse_statement BEFORE UPDATE OR DELETE OR TRUNCATE ON modelseal_evidence.meta
    FOR EACH STATEMENT EXECUTE FUNCTION modelseal_evidence.refuse_change();
