// Package catalog holds the per-region facts about RDS CA certificates:
// subjects, key types, signature hashes and validity windows.
package catalog

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

//go:embed catalog.tsv
var embedded string

// KeyType names the kind of key behind a CA.
type KeyType string

// Key types found in the catalog.
const (
	RSA2048   KeyType = "RSA2048"
	RSA4096   KeyType = "RSA4096"
	ECDSAP384 KeyType = "ECDSA-P384"
)

// Spec describes one CA certificate of one region.
type Spec struct {
	Region     string
	Identifier string
	CommonName string
	Key        KeyType
	Hash       string // sha256 or sha384
	NotBefore  time.Time
	NotAfter   time.Time
}

// Catalog maps a region to its CA specs.
type Catalog struct {
	regions map[string][]Spec
}

// G1 identifiers, in the order RDS documents them.
const (
	RSA2048G1 = "rds-ca-rsa2048-g1"
	RSA4096G1 = "rds-ca-rsa4096-g1"
	ECC384G1  = "rds-ca-ecc384-g1"
)

// Regions where the User Guide marks rsa4096 and ecc384 as not available.
var rsa2048Only = map[string]bool{
	"ap-south-1": true, "ap-southeast-4": true, "ca-west-1": true,
	"eu-central-2": true, "eu-south-2": true, "il-central-1": true,
}

// Template windows for regions missing from the catalog: those of us-east-1.
var fallback = []Spec{
	{Identifier: RSA2048G1, Key: RSA2048, Hash: "sha256", NotBefore: mustTime("2021-05-25T22:34:57Z"), NotAfter: mustTime("2061-05-25T23:34:57Z")},
	{Identifier: RSA4096G1, Key: RSA4096, Hash: "sha384", NotBefore: mustTime("2021-05-25T22:38:35Z"), NotAfter: mustTime("2121-05-25T23:38:35Z")},
	{Identifier: ECC384G1, Key: ECDSAP384, Hash: "sha384", NotBefore: mustTime("2021-05-25T22:41:55Z"), NotAfter: mustTime("2121-05-25T23:41:55Z")},
}

var fallbackNames = map[string]string{RSA2048G1: "RSA2048 G1", RSA4096G1: "RSA4096 G1", ECC384G1: "ECC384 G1"}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Default returns the catalog embedded in the binary, parsed once per
// process. Catalogs are read-only.
var Default = sync.OnceValue(func() *Catalog {
	c, err := Parse(embedded)
	if err != nil {
		panic("catalog: embedded catalog: " + err.Error())
	}
	return c
})

// Parse reads a catalog in the TSV form of rds-ca-catalog.tsv.
// Where an identifier has a root and an intermediate row, the intermediate
// (the issuing CA, whose dates DescribeCertificates showed) wins.
func Parse(tsv string) (*Catalog, error) {
	c := &Catalog{regions: map[string][]Spec{}}
	role := map[[2]string]string{}
	for i, line := range strings.Split(tsv, "\n") {
		line = strings.TrimRight(line, "\r")
		if i == 0 || strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 9 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 9", i+1, len(f))
		}
		region, id := f[0], f[1]
		if strings.HasPrefix(region, "(") {
			continue
		}
		nb, err := time.Parse(time.RFC3339, f[7])
		if err != nil {
			return nil, fmt.Errorf("line %d: not_before: %w", i+1, err)
		}
		na, err := time.Parse(time.RFC3339, f[8])
		if err != nil {
			return nil, fmt.Errorf("line %d: not_after: %w", i+1, err)
		}
		key := KeyType(f[5])
		switch key {
		case RSA2048, RSA4096, ECDSAP384:
		default:
			return nil, fmt.Errorf("line %d: unknown key type %q", i+1, f[5])
		}
		if f[6] != "sha256" && f[6] != "sha384" {
			return nil, fmt.Errorf("line %d: unknown signature hash %q", i+1, f[6])
		}
		s := Spec{Region: region, Identifier: id, CommonName: f[2], Key: key, Hash: f[6], NotBefore: nb, NotAfter: na}
		k := [2]string{region, id}
		if prev, ok := role[k]; ok {
			if prev == "intermediate" || f[4] != "intermediate" {
				continue
			}
			c.replace(s)
			role[k] = f[4]
			continue
		}
		role[k] = f[4]
		if rsa2048Only[region] && (id == RSA4096G1 || id == ECC384G1) {
			continue
		}
		c.regions[region] = append(c.regions[region], s)
	}
	for r := range c.regions {
		sortSpecs(c.regions[r])
	}
	return c, nil
}

func (c *Catalog) replace(s Spec) {
	specs := c.regions[s.Region]
	for i := range specs {
		if specs[i].Identifier == s.Identifier {
			specs[i] = s
		}
	}
}

func sortSpecs(s []Spec) {
	sort.Slice(s, func(i, j int) bool { return s[i].Identifier < s[j].Identifier })
}

// Region returns the specs of a region, sorted by identifier. A region
// missing from the catalog gets the three G1 CAs with us-east-1's windows.
func (c *Catalog) Region(region string) []Spec {
	if specs, ok := c.regions[region]; ok {
		return specs
	}
	out := make([]Spec, 0, len(fallback))
	for _, f := range fallback {
		f.Region = region
		f.CommonName = "Amazon RDS " + region + " Root CA " + fallbackNames[f.Identifier]
		if rsa2048Only[region] && f.Identifier != RSA2048G1 {
			continue
		}
		out = append(out, f)
	}
	sortSpecs(out)
	return out
}

// Known reports whether the region has rows in the catalog.
func (c *Catalog) Known(region string) bool {
	_, ok := c.regions[region]
	return ok
}
