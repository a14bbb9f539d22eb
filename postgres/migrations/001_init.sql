-- Overrides per (account, region) scope, per-region CA material and DB
-- instances per scope. Plain types only (TEXT, BYTEA, BIGINT, TIMESTAMPTZ)
-- so CockroachDB and YugabyteDB accept the schema too.
--
-- Identifiers use the "C" collation: listings page through them in byte
-- order, as the other stores do, whatever the database's default collation.
CREATE TABLE overrides (
	account        TEXT NOT NULL,
	region         TEXT NOT NULL,
	certificate_id TEXT NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (account, region)
);

CREATE TABLE ca_material (
	region     TEXT NOT NULL,
	identifier TEXT NOT NULL,
	cert_der   BYTEA NOT NULL,
	key_der    BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (region, identifier)
);

-- data is the JSON of an rds.Instance, kept as TEXT (JSONB refuses the
-- \u0000 escape a string field may hold); engine and version are copied out
-- of it for filtering and compare-and-swap, and version is authoritative.
CREATE TABLE instances (
	account    TEXT NOT NULL,
	region     TEXT NOT NULL,
	id         TEXT COLLATE "C" NOT NULL,
	engine     TEXT NOT NULL,
	version    BIGINT NOT NULL,
	data       TEXT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (account, region, id)
);

-- Engine-filtered listing in identifier order.
CREATE INDEX instances_by_engine ON instances (account, region, engine, id);
