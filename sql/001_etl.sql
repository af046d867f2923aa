-- 001_etl: the schema of the pipeline's own bookkeeping.
--
-- cl-load creates schema etl and etl.schema_migrations itself before it
-- applies any migration (it has to record this one too); this file adds
-- the rest. Each migration runs in its own transaction: no BEGIN/COMMIT
-- and no psql meta-commands in these files.

COMMENT ON SCHEMA etl IS
	'closedloop bookkeeping: applied migrations and the audit of every load.';

CREATE TABLE etl.runs
(
	run_id      text        PRIMARY KEY,
	window_from date        NOT NULL,
	window_to   date        NOT NULL,
	status      text        NOT NULL,
	rows        jsonb       NOT NULL DEFAULT '{}'::jsonb,
	started_at  timestamptz NOT NULL,
	finished_at timestamptz,
	error       text,
	loaded_by   text        NOT NULL DEFAULT session_user,
	CONSTRAINT runs_status_check CHECK (status IN ('succeeded', 'failed')),
	CONSTRAINT runs_window_check CHECK (window_from <= window_to),
	-- a success carries no error text; a failure always says why
	CONSTRAINT runs_error_check CHECK ((status = 'succeeded') = (error IS NULL))
);

-- The output-selection rule reads the succeeded runs; BI freshness checks
-- read the newest ones.
CREATE INDEX runs_status_finished_idx ON etl.runs (status, finished_at);

COMMENT ON TABLE etl.runs IS
	'One row per transform output that cl-load tried to load, keyed by the transform''s run id. '
	'The row of a successful load is written in the same transaction as the data, so '
	'status succeeded means the output is visible in schema attribution. A failed attempt '
	'is recorded afterwards in its own transaction; it never overwrites an earlier success.';
COMMENT ON COLUMN etl.runs.run_id IS
	'The transform run id (YYYYMMDDTHHMMSSZ-xxxxxx), the name of the output directory.';
COMMENT ON COLUMN etl.runs.window_from IS 'First day of the output''s window (inclusive).';
COMMENT ON COLUMN etl.runs.window_to IS 'Last day of the output''s window (inclusive).';
COMMENT ON COLUMN etl.runs.status IS 'succeeded or failed: the outcome of the latest attempt.';
COMMENT ON COLUMN etl.runs.rows IS
	'Rows loaded per table, {"attribution_credit": 1234, ...}; empty for a failed attempt.';
COMMENT ON COLUMN etl.runs.started_at IS 'When cl-load started the attempt.';
COMMENT ON COLUMN etl.runs.finished_at IS 'When the attempt committed or failed.';
COMMENT ON COLUMN etl.runs.error IS
	'Why the attempt failed: SQLSTATE, message, table and file. NULL on success.';
COMMENT ON COLUMN etl.runs.loaded_by IS
	'The database user, cl-load version and host that made the attempt.';

COMMENT ON TABLE etl.schema_migrations IS
	'The sql/NNN_name.sql migrations applied to this database, created by cl-load itself. '
	'cl-load refuses to run when an applied file has changed since (checksum mismatch).';
COMMENT ON COLUMN etl.schema_migrations.version IS 'The NNN of the file name.';
COMMENT ON COLUMN etl.schema_migrations.name IS 'The file name, e.g. 001_etl.sql.';
COMMENT ON COLUMN etl.schema_migrations.checksum IS 'SHA-256 of the file''s bytes, lower-case hex.';
COMMENT ON COLUMN etl.schema_migrations.applied_at IS 'When the migration was committed.';
