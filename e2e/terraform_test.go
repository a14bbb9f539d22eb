package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

// This file replays the call sequences of the Terraform AWS provider's
// aws_rds_certificate resource and data source
// (internal/service/rds/certificate.go, certificate_data_source.go), with
// the same SDK calls and the same client-side logic.

// errTFNotFound stands for the provider's retry.NotFoundError.
var errTFNotFound = errors.New("not found")

// tfFindCertificates is the provider's findCertificates: paginate to the end,
// keep what filter accepts; CertificateNotFoundFault means not found.
func tfFindCertificates(ctx context.Context, conn *rdssdk.Client, input *rdssdk.DescribeCertificatesInput, filter func(*types.Certificate) bool) ([]types.Certificate, int, error) {
	var output []types.Certificate
	pagesRead := 0
	pages := rdssdk.NewDescribeCertificatesPaginator(conn, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		var nf *types.CertificateNotFoundFault
		if errors.As(err, &nf) {
			return nil, pagesRead, fmt.Errorf("%w: %v", errTFNotFound, err)
		}
		if err != nil {
			return nil, pagesRead, err
		}
		pagesRead++
		for _, v := range page.Certificates {
			if filter(&v) {
				output = append(output, v)
			}
		}
	}
	return output, pagesRead, nil
}

// tfFindDefaultCertificate is findDefaultCertificate with
// tfresource.AssertSingleValueResult: exactly one overridden certificate.
func tfFindDefaultCertificate(ctx context.Context, conn *rdssdk.Client) (*types.Certificate, int, error) {
	out, pages, err := tfFindCertificates(ctx, conn, &rdssdk.DescribeCertificatesInput{}, func(v *types.Certificate) bool {
		return aws.ToBool(v.CustomerOverride)
	})
	if err != nil {
		return nil, pages, err
	}
	switch len(out) {
	case 0:
		return nil, pages, errTFNotFound
	case 1:
		return &out[0], pages, nil
	}
	return nil, pages, fmt.Errorf("%d overridden certificates, want at most 1", len(out))
}

// tfResourceState is the aws_rds_certificate resource's state.
type tfResourceState struct {
	id                    string // the region, "" once gone
	certificateIdentifier string
}

// tfResourcePut is resourceCertificatePut (create and update).
func tfResourcePut(t *testing.T, conn *rdssdk.Client, region string, st *tfResourceState, certificateID string) {
	t.Helper()
	if _, err := conn.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(certificateID)}); err != nil {
		t.Fatalf("setting RDS Default Certificate (%s): %v", certificateID, err)
	}
	isNew := st.id == ""
	if isNew {
		st.id = region
	}
	tfResourceRead(t, conn, st, isNew)
}

// tfResourceRead is resourceCertificateRead; it returns the pages read.
func tfResourceRead(t *testing.T, conn *rdssdk.Client, st *tfResourceState, isNew bool) int {
	t.Helper()
	out, pages, err := tfFindDefaultCertificate(ctx(t), conn)
	if !isNew && errors.Is(err, errTFNotFound) {
		st.id = "" // removed from state
		return pages
	}
	if err != nil {
		t.Fatalf("reading RDS Default Certificate (%s): %v", st.id, err)
	}
	st.certificateIdentifier = aws.ToString(out.CertificateIdentifier)
	return pages
}

// tfResourceDelete is resourceCertificateDelete.
func tfResourceDelete(t *testing.T, conn *rdssdk.Client, st *tfResourceState) {
	t.Helper()
	if _, err := conn.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{RemoveCustomerOverride: aws.Bool(true)}); err != nil {
		t.Fatalf("removing RDS Default Certificate (%s): %v", st.id, err)
	}
}

// tfDataSource is the aws_rds_certificate data source's result.
type tfDataSource struct {
	id, arn, certificateType, thumbprint string
	customerOverride                     bool
	customerOverrideValidTill            string
	validFrom, validTill                 string
}

// tfDataSourceRead is dataSourceCertificateRead.
func tfDataSourceRead(ctx context.Context, conn *rdssdk.Client, id string, latestValidTill, defaultForNewLaunches bool) (*tfDataSource, error) {
	input := &rdssdk.DescribeCertificatesInput{}
	if id != "" {
		input.CertificateIdentifier = aws.String(id)
	}
	var certificates []types.Certificate
	var hasDefault bool
	var defaultCertificate string
	pages := rdssdk.NewDescribeCertificatesPaginator(conn, input)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading RDS Certificates: %w", err)
		}
		if page.DefaultCertificateForNewLaunches != nil && aws.ToString(page.DefaultCertificateForNewLaunches) != "" && !hasDefault {
			hasDefault = true
			defaultCertificate = aws.ToString(page.DefaultCertificateForNewLaunches)
		}
		certificates = append(certificates, page.Certificates...)
	}
	if len(certificates) == 0 {
		return nil, errors.New("no RDS Certificates found")
	}
	var certificate *types.Certificate
	switch {
	case latestValidTill:
		slices.SortFunc(certificates, func(a, b types.Certificate) int {
			return a.ValidTill.Compare(*b.ValidTill) // dereferences ValidTill, as the provider does
		})
		certificate = &certificates[len(certificates)-1]
	case defaultForNewLaunches:
		i := slices.IndexFunc(certificates, func(c types.Certificate) bool {
			return aws.ToString(c.CertificateIdentifier) == defaultCertificate
		})
		if i == -1 {
			return nil, errors.New("no default RDS Certificate found")
		}
		certificate = &certificates[i]
	default:
		if len(certificates) > 1 {
			return nil, errors.New("multiple RDS Certificates match the criteria; try changing search query")
		}
		certificate = &certificates[0]
	}
	ds := &tfDataSource{
		id:               aws.ToString(certificate.CertificateIdentifier),
		arn:              aws.ToString(certificate.CertificateArn),
		certificateType:  aws.ToString(certificate.CertificateType),
		customerOverride: aws.ToBool(certificate.CustomerOverride),
		thumbprint:       aws.ToString(certificate.Thumbprint),
	}
	if certificate.CustomerOverrideValidTill != nil {
		ds.customerOverrideValidTill = aws.ToTime(certificate.CustomerOverrideValidTill).Format(time.RFC3339)
	}
	if certificate.ValidFrom != nil {
		ds.validFrom = aws.ToTime(certificate.ValidFrom).Format(time.RFC3339)
	}
	if certificate.ValidTill != nil {
		ds.validTill = aws.ToTime(certificate.ValidTill).Format(time.RFC3339)
	}
	return ds, nil
}

func TestTerraformAwsRdsCertificateReplay(t *testing.T) {
	t.Parallel()
	// 120 synthetic certificates (ValidTill 2100-01-01 + i days) plus the
	// real us-east-1 G1 rows: 123 certificates, two pages at the default 100.
	paged := syntheticCatalog(t, "us-east-1", "rds-ca-tf", 120, usEast1G1Rows()...)
	for _, tc := range []struct {
		name      string
		opts      serverOpts
		pages     int
		latest    string // latest_valid_till pick
		latestTil string
	}{
		{"embedded catalog", serverOpts{}, 1, ecc384, "2121-05-25T23:41:55Z"},
		{"123-certificate catalog", serverOpts{catalog: paged}, 2, ecc384, "2121-05-25T23:41:55Z"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, tc.opts)
			conn := newClient(t, s.URL, "123456789012", "us-east-1")
			bystander := newClient(t, s.URL, "210987654321", "us-east-1")

			// Before any resource: a read finds nothing to import.
			if _, _, err := tfFindDefaultCertificate(ctx(t), conn); !errors.Is(err, errTFNotFound) {
				t.Fatalf("read before create: %v, want not found", err)
			}

			// Create.
			st := &tfResourceState{}
			tfResourcePut(t, conn, "us-east-1", st, rsa4096)
			if st.id != "us-east-1" || st.certificateIdentifier != rsa4096 {
				t.Fatalf("after create: %+v", st)
			}
			// Refresh.
			if pages := tfResourceRead(t, conn, st, false); pages != tc.pages {
				t.Fatalf("read %d pages, want %d", pages, tc.pages)
			}
			if st.certificateIdentifier != rsa4096 {
				t.Fatalf("after refresh: %+v", st)
			}
			// Plan is empty: applying the same config again is harmless.
			tfResourcePut(t, conn, "us-east-1", st, rsa4096)
			if st.certificateIdentifier != rsa4096 {
				t.Fatalf("after re-apply: %+v", st)
			}

			// Data source by id and as default_for_new_launches.
			ds, err := tfDataSourceRead(ctx(t), conn, rsa4096, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if ds.id != rsa4096 || !ds.customerOverride || ds.customerOverrideValidTill != ds.validTill || ds.validTill != "2121-05-25T23:38:35Z" ||
				ds.validFrom != "2021-05-25T22:38:35Z" || ds.certificateType != "CA" || ds.arn != "arn:aws:rds:us-east-1::cert:"+rsa4096 || !thumbprintRe.MatchString(ds.thumbprint) {
				t.Fatalf("data source by id: %+v", ds)
			}
			ds, err = tfDataSourceRead(ctx(t), conn, "", false, true)
			if err != nil {
				t.Fatal(err)
			}
			if ds.id != rsa4096 || !ds.customerOverride {
				t.Fatalf("data source default_for_new_launches: %+v", ds)
			}

			// Update to another identifier, then read.
			tfResourcePut(t, conn, "us-east-1", st, ecc384)
			tfResourceRead(t, conn, st, false)
			if st.id != "us-east-1" || st.certificateIdentifier != ecc384 {
				t.Fatalf("after update: %+v", st)
			}
			ds, err = tfDataSourceRead(ctx(t), conn, "", false, true)
			if err != nil || ds.id != ecc384 {
				t.Fatalf("data source default after update: %+v, %v", ds, err)
			}

			// Drift made outside Terraform shows on refresh.
			modify(t, conn, rsa2048)
			tfResourceRead(t, conn, st, false)
			if st.certificateIdentifier != rsa2048 {
				t.Fatalf("drift not seen: %+v", st)
			}
			tfResourcePut(t, conn, "us-east-1", st, ecc384)

			// Another account's Terraform does not see this resource.
			if _, _, err := tfFindDefaultCertificate(ctx(t), bystander); !errors.Is(err, errTFNotFound) {
				t.Fatalf("other account reads %v, want not found", err)
			}

			// Delete, then refresh: the resource is gone.
			tfResourceDelete(t, conn, st)
			tfResourceRead(t, conn, st, false)
			if st.id != "" {
				t.Fatalf("after delete the resource is still in state: %+v", st)
			}
			// Deleting again (e.g. a retried destroy) succeeds.
			tfResourceDelete(t, conn, st)

			// Data source: default_for_new_launches is the system default again.
			ds, err = tfDataSourceRead(ctx(t), conn, "", false, true)
			if err != nil {
				t.Fatal(err)
			}
			if ds.id != rsa2048 || ds.customerOverride || ds.customerOverrideValidTill != "" || ds.validTill != "2061-05-25T23:34:57Z" {
				t.Fatalf("data source default after delete: %+v", ds)
			}
			// latest_valid_till over every page.
			ds, err = tfDataSourceRead(ctx(t), conn, "", true, false)
			if err != nil {
				t.Fatal(err)
			}
			if ds.id != tc.latest || ds.validTill != tc.latestTil {
				t.Fatalf("latest_valid_till picked %s (%s), want %s (%s)", ds.id, ds.validTill, tc.latest, tc.latestTil)
			}
			// By id, case as the user typed it.
			ds, err = tfDataSourceRead(ctx(t), conn, "RDS-CA-RSA2048-G1", false, false)
			if err != nil || ds.id != rsa2048 || ds.validTill != "2061-05-25T23:34:57Z" {
				t.Fatalf("data source by upper-case id: %+v, %v", ds, err)
			}
			// No filter at all: more than one certificate is an error.
			if _, err := tfDataSourceRead(ctx(t), conn, "", false, false); err == nil {
				t.Fatal("data source without filter accepted several certificates")
			}
			// Unknown id: the data source fails with CertificateNotFoundFault.
			_, err = tfDataSourceRead(ctx(t), conn, "rds-ca-nope", false, false)
			var nf *types.CertificateNotFoundFault
			if !errors.As(err, &nf) {
				t.Fatalf("data source unknown id: %v", err)
			}
			// Creating with an unknown id fails; nothing is overridden.
			if _, err := conn.ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String("rds-ca-nope")}); !errors.As(err, &nf) {
				t.Fatalf("create with unknown id: %v", err)
			}
			if _, _, err := tfFindDefaultCertificate(ctx(t), conn); !errors.Is(err, errTFNotFound) {
				t.Fatalf("read after failed create: %v", err)
			}
		})
	}
}
