-- Overrides per (account, region) scope and per-region CA material.
CREATE TABLE overrides (
	account        TEXT NOT NULL,
	region         TEXT NOT NULL,
	certificate_id TEXT NOT NULL,
	updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (account, region)
) STRICT;

CREATE TABLE ca_material (
	region     TEXT NOT NULL,
	identifier TEXT NOT NULL,
	cert_der   BLOB NOT NULL,
	key_der    BLOB NOT NULL,
	created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
	PRIMARY KEY (region, identifier)
) STRICT;
