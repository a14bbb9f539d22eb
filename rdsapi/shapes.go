package rdsapi

import (
	"strings"
	"sync"

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
// Certificates holds the pre-encoded <Certificates> element, so it must
// follow DefaultCertificateForNewLaunches, which is always present.
type describeCertificatesResult struct {
	DefaultCertificateForNewLaunches string
	Certificates                     []byte `xml:",innerxml"`
	Marker                           string `xml:",omitempty"`
}

// Depths of certificate elements in DescribeCertificatesResponse.
const (
	certificatesDepth = 2
	certificateDepth  = 3
)

// certificateCache keeps each certificate's encoded <Certificate> element:
// a certificate's wire form depends only on which one it is and whether it
// is overridden, and encoding dominates DescribeCertificates' cost.
type certificateCache struct {
	m sync.Map // certificateKey → []byte
}

type certificateKey struct {
	arn, thumbprint string
	override        bool
}

func (cc *certificateCache) encode(c rds.Certificate) ([]byte, error) {
	k := certificateKey{c.ARN, c.Thumbprint, c.CustomerOverride}
	if b, ok := cc.m.Load(k); ok {
		return b.([]byte), nil
	}
	b, err := awsquery.EncodeFragment(toCertificate(c), "Certificate", certificateDepth)
	if err != nil {
		return nil, err
	}
	cc.m.Store(k, b)
	return b, nil
}

func (cc *certificateCache) toDescribeCertificatesResult(o *rds.DescribeCertificatesOutput) (describeCertificatesResult, error) {
	r := describeCertificatesResult{DefaultCertificateForNewLaunches: o.DefaultCertificateForNewLaunches, Marker: o.Marker}
	pad := "\n" + strings.Repeat("  ", certificatesDepth)
	b := make([]byte, 0, 600*len(o.Certificates)+64)
	b = append(b, pad+"<Certificates>"...)
	for _, c := range o.Certificates {
		enc, err := cc.encode(c)
		if err != nil {
			return r, err
		}
		b = append(b, enc...)
	}
	r.Certificates = append(b, pad+"</Certificates>"...)
	return r, nil
}

// modifyCertificatesResult is ModifyCertificatesResult's content.
type modifyCertificatesResult struct {
	Certificate certificate
}
