// Package ca creates the X.509 CA certificates behind RDS CA identifiers.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"sync"

	"github.com/rdsca/rdsca/catalog"
	"github.com/rdsca/rdsca/rds"
)

// Generator creates self-signed CA certificates from catalog specs, with a
// fresh key of the spec's type from crypto/rand.
type Generator struct{}

var _ rds.Generator = Generator{}

// Generate implements rds.Generator.
func (g Generator) Generate(spec catalog.Spec) (rds.CA, error) {
	key, err := newKey(rand.Reader, spec.Key)
	if err != nil {
		return rds.CA{}, err
	}
	alg, err := signatureAlgorithm(spec)
	if err != nil {
		return rds.CA{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return rds.CA{}, err
	}
	name := pkix.Name{
		Country:            []string{"US"},
		Organization:       []string{"Amazon Web Services, Inc."},
		OrganizationalUnit: []string{"Amazon RDS"},
		Province:           []string{"WA"},
		Locality:           []string{"Seattle"},
		CommonName:         spec.CommonName,
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		Issuer:                name,
		NotBefore:             spec.NotBefore,
		NotAfter:              spec.NotAfter,
		SignatureAlgorithm:    alg,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signer := key.(crypto.Signer)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return rds.CA{}, fmt.Errorf("ca: %s %s: %w", spec.Region, spec.Identifier, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return rds.CA{}, err
	}
	return rds.CA{Region: spec.Region, Identifier: spec.Identifier, CertDER: der, KeyDER: keyDER}, nil
}

func newKey(r io.Reader, kt catalog.KeyType) (crypto.PrivateKey, error) {
	switch kt {
	case catalog.RSA2048:
		return rsa.GenerateKey(r, 2048)
	case catalog.RSA4096:
		return rsa.GenerateKey(r, 4096)
	case catalog.ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), r)
	}
	return nil, fmt.Errorf("ca: unknown key type %q", kt)
}

func signatureAlgorithm(spec catalog.Spec) (x509.SignatureAlgorithm, error) {
	switch {
	case spec.Key == catalog.ECDSAP384 && spec.Hash == "sha384":
		return x509.ECDSAWithSHA384, nil
	case spec.Key == catalog.ECDSAP384 && spec.Hash == "sha256":
		return x509.ECDSAWithSHA256, nil
	case spec.Hash == "sha384":
		return x509.SHA384WithRSA, nil
	case spec.Hash == "sha256":
		return x509.SHA256WithRSA, nil
	}
	return 0, fmt.Errorf("ca: unsupported hash %q for %s", spec.Hash, spec.Key)
}

// Shared memoizes another generator by (region, identifier), so servers in
// one process share CA material and pay for key generation once.
type Shared struct {
	Generator rds.Generator

	mu    sync.Mutex
	cache map[[2]string]*sharedEntry
}

type sharedEntry struct {
	once sync.Once
	ca   rds.CA
	err  error
}

// Generate implements rds.Generator.
func (s *Shared) Generate(spec catalog.Spec) (rds.CA, error) {
	k := [2]string{spec.Region, spec.Identifier}
	s.mu.Lock()
	if s.cache == nil {
		s.cache = map[[2]string]*sharedEntry{}
	}
	e, ok := s.cache[k]
	if !ok {
		e = &sharedEntry{}
		s.cache[k] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		g := s.Generator
		if g == nil {
			g = Generator{}
		}
		e.ca, e.err = g.Generate(spec)
	})
	if e.err != nil {
		s.mu.Lock()
		delete(s.cache, k)
		s.mu.Unlock()
	}
	return e.ca, e.err
}
