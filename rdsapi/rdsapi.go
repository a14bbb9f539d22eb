// Package rdsapi binds the RDS operations to the AWS Query protocol: it
// decodes each operation's parameters, calls the domain and converts the
// result to its wire shape.
package rdsapi

import (
	"context"
	"net/http"

	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// RDS API constants.
const (
	Namespace   = "http://rds.amazonaws.com/doc/2014-10-31/"
	Version     = "2014-10-31"
	SigningName = "rds"
)

// Statuses are the HTTP statuses of RDS-specific error codes.
var Statuses = awsquery.Statuses{
	rds.CodeCertificateNotFound:     http.StatusNotFound,
	rds.CodeDBInstanceNotFound:      http.StatusNotFound,
	rds.CodeDBInstanceAlreadyExists: http.StatusBadRequest,
	rds.CodeInvalidDBInstanceState:  http.StatusBadRequest,
	rds.CodeResourceNotFound:        http.StatusNotFound,
	rds.CodeMissingParameter:        http.StatusBadRequest,
}

// Register adds the RDS operations to s.
func Register(s *awsquery.Server, svc *rds.Service) {
	certs := &certificateCache{}
	awsquery.Handle(s, "DescribeCertificates", decodeDescribeCertificates,
		func(ctx context.Context, c awsquery.Caller, in rds.DescribeCertificatesInput) (describeCertificatesResult, error) {
			out, err := svc.DescribeCertificates(ctx, c.Scope(), in)
			if err != nil {
				return describeCertificatesResult{}, err
			}
			return certs.toDescribeCertificatesResult(out)
		})
	awsquery.Handle(s, "ModifyCertificates", decodeModifyCertificates,
		func(ctx context.Context, c awsquery.Caller, in rds.ModifyCertificatesInput) (modifyCertificatesResult, error) {
			out, err := svc.ModifyCertificates(ctx, c.Scope(), in)
			if err != nil {
				return modifyCertificatesResult{}, err
			}
			return modifyCertificatesResult{Certificate: toCertificate(*out)}, nil
		})
	registerInstances(s, svc)
	registerMaintenance(s, svc)
	registerEngines(s, svc)
}

func decodeDescribeCertificates(p awsquery.Params) (rds.DescribeCertificatesInput, error) {
	// Filters are documented as not supported; they are accepted and ignored.
	max, err := p.Int("MaxRecords")
	if err != nil {
		return rds.DescribeCertificatesInput{}, err
	}
	return rds.DescribeCertificatesInput{
		CertificateIdentifier: p.String("CertificateIdentifier"),
		MaxRecords:            max,
		Marker:                p.String("Marker"),
	}, nil
}

func decodeModifyCertificates(p awsquery.Params) (rds.ModifyCertificatesInput, error) {
	remove, err := p.Bool("RemoveCustomerOverride")
	if err != nil {
		return rds.ModifyCertificatesInput{}, err
	}
	return rds.ModifyCertificatesInput{
		CertificateIdentifier:  p.String("CertificateIdentifier"),
		RemoveCustomerOverride: remove,
	}, nil
}
