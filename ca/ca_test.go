package ca_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"testing"

	"github.com/rdsca/rdsca/ca"
	"github.com/rdsca/rdsca/catalog"
)

func TestGenerateFollowsCatalog(t *testing.T) {
	specs := catalog.Default().Region("us-east-1")
	shared := &ca.Shared{}
	for _, s := range specs {
		t.Run(s.Identifier, func(t *testing.T) {
			m, err := shared.Generate(s)
			if err != nil {
				t.Fatal(err)
			}
			c, err := x509.ParseCertificate(m.CertDER)
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.CommonName != s.CommonName || c.Issuer.CommonName != s.CommonName {
				t.Errorf("subject %q issuer %q, want %q", c.Subject.CommonName, c.Issuer.CommonName, s.CommonName)
			}
			if !c.NotBefore.Equal(s.NotBefore) || !c.NotAfter.Equal(s.NotAfter) {
				t.Errorf("window %v..%v, want %v..%v", c.NotBefore, c.NotAfter, s.NotBefore, s.NotAfter)
			}
			if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 {
				t.Error("not a CA certificate")
			}
			if err := c.CheckSignatureFrom(c); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			key, err := x509.ParsePKCS8PrivateKey(m.KeyDER)
			if err != nil {
				t.Fatal(err)
			}
			wantAlg := map[string]x509.SignatureAlgorithm{
				"RSA2048/sha256": x509.SHA256WithRSA, "RSA4096/sha384": x509.SHA384WithRSA,
				"RSA2048/sha384": x509.SHA384WithRSA, "ECDSA-P384/sha384": x509.ECDSAWithSHA384,
			}[string(s.Key)+"/"+s.Hash]
			if c.SignatureAlgorithm != wantAlg {
				t.Errorf("signature %v, want %v", c.SignatureAlgorithm, wantAlg)
			}
			switch k := key.(type) {
			case *rsa.PrivateKey:
				bits := map[catalog.KeyType]int{catalog.RSA2048: 2048, catalog.RSA4096: 4096}[s.Key]
				if k.N.BitLen() != bits {
					t.Errorf("RSA key of %d bits, want %d", k.N.BitLen(), bits)
				}
				if !k.PublicKey.Equal(c.PublicKey) {
					t.Error("key does not match certificate")
				}
			case *ecdsa.PrivateKey:
				if s.Key != catalog.ECDSAP384 || k.Curve != elliptic.P384() {
					t.Errorf("ECDSA key on %v for %s", k.Curve.Params().Name, s.Key)
				}
				if !k.PublicKey.Equal(c.PublicKey) {
					t.Error("key does not match certificate")
				}
			default:
				t.Errorf("key type %T", key)
			}
		})
	}
}

func TestSharedGeneratesOnce(t *testing.T) {
	shared := &ca.Shared{}
	s := catalog.Default().Region("eu-west-1")[0]
	a, err := shared.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	b, err := shared.Generate(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(a.CertDER) != string(b.CertDER) {
		t.Error("Shared made two certificates for one spec")
	}
	if c, _ := (ca.Generator{}).Generate(s); string(c.CertDER) == string(a.CertDER) {
		t.Error("Generator repeats certificates")
	}
}
