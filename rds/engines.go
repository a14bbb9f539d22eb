package rds

import "strings"

// EngineVersion is one engine version rdsca offers.
type EngineVersion struct {
	Engine             string
	Version            string
	Family             string // DBParameterGroupFamily
	EngineDescription  string
	VersionDescription string
	// RotatesWithoutRestart is SupportsCertificateRotationWithoutRestart.
	RotatesWithoutRestart bool
	// Default marks the version CreateDBInstance picks without one.
	Default bool
}

// Engines rdsca knows, by the reference's engine table and decisions:
// postgres 12+ and mysql 8.x rotate without a restart, mysql 5.7 does not,
// mariadb 10.5+ does.
var engineVersions = []EngineVersion{
	pg("12.22", "12"), pg("13.20", "13"), pg("14.17", "14"), pg("15.12", "15"), pg("16.8", "16"), pgDefault("17.4", "17"),
	my("5.7.44", "5.7", false), myDefault("8.0.41", "8.0"), my("8.4.4", "8.4", true),
	maria("10.5.27", "10.5"), maria("10.6.20", "10.6"), mariaDefault("10.11.10", "10.11"), maria("11.4.4", "11.4"),
}

func pg(v, major string) EngineVersion {
	return EngineVersion{Engine: "postgres", Version: v, Family: "postgres" + major, EngineDescription: "PostgreSQL",
		VersionDescription: "PostgreSQL " + v + "-R1", RotatesWithoutRestart: true}
}

func pgDefault(v, major string) EngineVersion { e := pg(v, major); e.Default = true; return e }

func my(v, major string, rotates bool) EngineVersion {
	return EngineVersion{Engine: "mysql", Version: v, Family: "mysql" + major, EngineDescription: "MySQL Community Edition",
		VersionDescription: "MySQL " + v, RotatesWithoutRestart: rotates}
}

func myDefault(v, major string) EngineVersion { e := my(v, major, true); e.Default = true; return e }

func maria(v, major string) EngineVersion {
	return EngineVersion{Engine: "mariadb", Version: v, Family: "mariadb" + major, EngineDescription: "MariaDB Community Edition",
		VersionDescription: "MariaDB " + v, RotatesWithoutRestart: true}
}

func mariaDefault(v, major string) EngineVersion { e := maria(v, major); e.Default = true; return e }

// defaultPorts by engine.
var defaultPorts = map[string]int{"postgres": 5432, "mysql": 3306, "mariadb": 3306}

// EngineVersions returns every engine version rdsca knows.
func EngineVersions() []EngineVersion { return append([]EngineVersion(nil), engineVersions...) }

// knownEngine reports whether rdsca has versions of engine.
func knownEngine(engine string) bool {
	_, ok := defaultPorts[engine]
	return ok
}

// findEngineVersion resolves a requested version: "" is the default, an
// exact version matches itself, and a major version ("16", "8.0") its
// newest minor.
func findEngineVersion(engine, version string) (EngineVersion, bool) {
	var best EngineVersion
	found := false
	for _, e := range engineVersions {
		if e.Engine != engine {
			continue
		}
		switch {
		case version == "" && e.Default, e.Version == version:
			return e, true
		case version != "" && strings.HasPrefix(e.Version, version+"."):
			best, found = e, true
		}
	}
	return best, found
}
