-- DB instances per (account, region) scope. data is the JSON of an
-- rds.Instance; engine and version are copied out of it for filtering and
-- compare-and-swap, and version is authoritative.
CREATE TABLE instances (
	account    TEXT NOT NULL,
	region     TEXT NOT NULL,
	id         TEXT NOT NULL,
	engine     TEXT NOT NULL,
	version    INTEGER NOT NULL,
	data       TEXT NOT NULL,
	updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (account, region, id)
) STRICT;

-- Engine-filtered listing in identifier order.
CREATE INDEX instances_by_engine ON instances (account, region, engine, id);
