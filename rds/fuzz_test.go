package rds

import (
	"errors"
	"strings"
	"testing"
)

// markerPrefixes are every kind of pagination marker the service makes.
var markerPrefixes = []string{markerPrefix, instanceMarkerPrefix, resourceMarkerPrefix, engineMarkerPrefix}

// FuzzMarker checks the pagination marker: decode(encode(k)) == k for every
// non-empty key and every kind; a marker of one kind is not accepted as
// another; junk never panics and is InvalidParameterValue quoting it; and
// whatever decodes is a key that round-trips. Seeds: testdata/fuzz/FuzzMarker.
func FuzzMarker(f *testing.F) {
	for _, s := range [][2]string{
		{"rds-ca-rsa2048-g1", EncodeMarker("rds-ca-ecc384-g1")},
		{"db-1", encodeMarker(instanceMarkerPrefix, "db-1")},
		{"x", "bogus"},
		{"", ""},
		{"\xff\x00", "Y2VydDo"},                // "cert:" with no key
		{"é", "Y2VydDpy=="},                    // padding is not raw
		{strings.Repeat("a", 300), "ZGI6YQ"},   // "db:a"
		{"arn:aws:rds:us-east-1:1:db:x", "+/"}, // standard, not URL, alphabet
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, key, junk string) {
		if EncodeMarker(key) != encodeMarker(markerPrefix, key) {
			t.Fatal("EncodeMarker is not the certificate kind")
		}
		for _, p := range markerPrefixes {
			if key != "" {
				m := encodeMarker(p, key)
				if strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
					t.Fatalf("marker %q is not URL-safe", m)
				}
				got, err := decodeMarker(p, m)
				if err != nil || got != key {
					t.Fatalf("decode(encode(%q)) with prefix %q = %q, %v", key, p, got, err)
				}
				for _, other := range markerPrefixes {
					if other != p {
						if got, err := decodeMarker(other, m); err == nil {
							t.Fatalf("a %q marker for %q decodes as a %q marker: %q", p, key, other, got)
						}
					}
				}
			}
			got, err := decodeMarker(p, junk)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidParameterValue || e.Fault != Sender {
					t.Fatalf("decode %q: error %#v, want a sender InvalidParameterValue", junk, err)
				}
				if want := "The parameter Marker is not valid: " + junk; e.Message != want {
					t.Fatalf("message %q, want %q", e.Message, want)
				}
				continue
			}
			if got == "" {
				t.Fatalf("decode %q with prefix %q: an empty key", junk, p)
			}
			if again, err := decodeMarker(p, encodeMarker(p, got)); err != nil || again != got {
				t.Fatalf("key %q from %q does not round-trip: %q, %v", got, junk, again, err)
			}
		}
	})
}
