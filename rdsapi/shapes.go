package rdsapi

import (
	"github.com/rdsca/rdsca/awsquery"
	"github.com/rdsca/rdsca/rds"
)

// certificate is the Certificate shape.
type certificate struct {
	CertificateIdentifier     string
	CertificateType           string
	Thumbprint                string
	ValidFrom                 awsquery.Timestamp
	ValidTill                 awsquery.Timestamp
	CertificateArn            string
	CustomerOverride          bool
	CustomerOverrideValidTill *awsquery.Timestamp `xml:",omitempty"`
}

func toCertificate(c rds.Certificate) certificate {
	return certificate{
		CertificateIdentifier:     c.Identifier,
		CertificateType:           c.Type,
		Thumbprint:                c.Thumbprint,
		ValidFrom:                 awsquery.Timestamp(c.ValidFrom),
		ValidTill:                 awsquery.Timestamp(c.ValidTill),
		CertificateArn:            c.ARN,
		CustomerOverride:          c.CustomerOverride,
		CustomerOverrideValidTill: awsquery.NewTimestamp(c.CustomerOverrideValidTill),
	}
}

// describeCertificatesResult is DescribeCertificatesResult's content.
type describeCertificatesResult struct {
	DefaultCertificateForNewLaunches string        `xml:",omitempty"`
	Certificates                     []certificate `xml:"Certificates>Certificate"`
	Marker                           string        `xml:",omitempty"`
}

func toDescribeCertificatesResult(o *rds.DescribeCertificatesOutput) describeCertificatesResult {
	r := describeCertificatesResult{DefaultCertificateForNewLaunches: o.DefaultCertificateForNewLaunches, Marker: o.Marker}
	r.Certificates = make([]certificate, len(o.Certificates))
	for i, c := range o.Certificates {
		r.Certificates[i] = toCertificate(c)
	}
	return r
}

// modifyCertificatesResult is ModifyCertificatesResult's content.
type modifyCertificatesResult struct {
	Certificate certificate
}
