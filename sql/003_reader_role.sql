-- 003_reader_role: a NOLOGIN role that BI tools' login roles are granted,
-- with read access to schema attribution (and the load audit, etl.runs).
--
-- The role name is [database] reader_role (default closedloop_reader):
-- cl-load passes it in the session setting closedloop.reader_role so that
-- this file, and so its checksum, stay the same everywhere.
--
-- Creating a role needs CREATEROLE. A loader role without it must still be
-- able to migrate: when the role already exists (a DBA created it) only
-- grants are needed, which the tables' owner may give; when it does not,
-- the migration reports it with a NOTICE and grants nothing.

DO $migration$
DECLARE
	reader text := coalesce(nullif(current_setting('closedloop.reader_role', true), ''),
							'closedloop_reader');
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = reader) THEN
		BEGIN
			EXECUTE format('CREATE ROLE %I NOLOGIN', reader);
			EXECUTE format('COMMENT ON ROLE %I IS %L', reader,
						   'closedloop read-only access for BI tools: GRANT it to their login roles.');
		EXCEPTION
			WHEN insufficient_privilege THEN
				RAISE NOTICE 'role % does not exist and % may not create it (needs CREATEROLE); '
					'no read-only grants were made: have an administrator create it and grant '
					'it as docs/SCHEMA.md shows', reader, current_user;
				RETURN;
			WHEN duplicate_object THEN
				-- another database of this cluster created it at the same moment
				NULL;
		END;
	END IF;

	EXECUTE format('GRANT USAGE ON SCHEMA attribution TO %I', reader);
	EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA attribution TO %I', reader);
	-- tables and views that later migrations create (as this same user)
	EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA attribution GRANT SELECT ON TABLES TO %I',
				   reader);
	-- freshness checks: when did the last load succeed, for which window
	EXECUTE format('GRANT USAGE ON SCHEMA etl TO %I', reader);
	EXECUTE format('GRANT SELECT ON etl.runs TO %I', reader);
END
$migration$;
