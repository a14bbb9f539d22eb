package catalog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rdsca/rdsca/catalog"
)

func TestDefaultCatalog(t *testing.T) {
	c := catalog.Default()
	east := c.Region("us-east-1")
	var ids []string
	for _, s := range east {
		ids = append(ids, s.Identifier)
	}
	if got := strings.Join(ids, ","); got != "rds-ca-2019,rds-ca-ecc384-g1,rds-ca-rsa2048-g1,rds-ca-rsa4096-g1" {
		t.Fatalf("us-east-1: %s", got)
	}
	// rds-ca-2019 takes the intermediate row, the CA that DescribeCertificates showed.
	if s := east[0]; s.CommonName != "Amazon RDS us-east-1 2019 CA" || !s.NotAfter.Equal(time.Date(2024, 8, 22, 17, 8, 50, 0, time.UTC)) {
		t.Errorf("rds-ca-2019: %+v", s)
	}
	if s := east[3]; s.Key != catalog.RSA4096 || s.Hash != "sha384" {
		t.Errorf("rsa4096: %+v", s)
	}
	if got := c.Region("ap-south-1"); len(got) != 2 || got[0].Identifier != "rds-ca-2019" || got[1].Identifier != catalog.RSA2048G1 {
		t.Errorf("ap-south-1 lists %+v", got)
	}
	af := c.Region("af-south-1")
	if af[0].Identifier != "rds-ca-2019-af-south-1" || af[0].CommonName != "Amazon RDS af-south-1 CA" {
		t.Errorf("af-south-1 2019: %+v", af[0])
	}
	if gov := c.Region("us-gov-east-1"); gov[1].Identifier != catalog.RSA2048G1 || gov[1].Hash != "sha384" {
		t.Errorf("us-gov-east-1: %+v", gov)
	}
}

func TestUnknownRegionGetsG1(t *testing.T) {
	c := catalog.Default()
	if c.Known("xx-test-1") {
		t.Fatal("xx-test-1 known")
	}
	specs := c.Region("xx-test-1")
	if len(specs) != 3 {
		t.Fatalf("%d specs", len(specs))
	}
	for _, s := range specs {
		if s.Region != "xx-test-1" || !strings.HasPrefix(s.CommonName, "Amazon RDS xx-test-1 Root CA ") || !strings.HasPrefix(s.Identifier, "rds-ca-") {
			t.Errorf("%+v", s)
		}
	}
	if got := c.Region("ca-west-1"); len(got) != 1 || got[0].Identifier != catalog.RSA2048G1 {
		t.Errorf("ca-west-1: %+v", got)
	}
}

func TestParseErrors(t *testing.T) {
	head := "region\tidentifier\tsubject_cn\tissuer_cn\trole\tkey\tsignature\tnot_before\tnot_after\n"
	for _, row := range []string{
		"r\tid\tcn\tcn\troot\tDSA\tsha256\t2021-01-01T00:00:00Z\t2022-01-01T00:00:00Z",
		"r\tid\tcn\tcn\troot\tRSA2048\tmd5\t2021-01-01T00:00:00Z\t2022-01-01T00:00:00Z",
		"r\tid\tcn\tcn\troot\tRSA2048\tsha256\tyesterday\t2022-01-01T00:00:00Z",
		"r\tid\tcn",
	} {
		if _, err := catalog.Parse(head + row); err == nil {
			t.Errorf("accepted %q", row)
		}
	}
}
