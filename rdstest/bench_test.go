package rdstest_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsca/rdsca/rdstest"
)

// BenchmarkNewServerAndDescribe measures what a test pays for its own
// server: NewServer, an SDK client from AWSConfig and a first
// DescribeCertificates, which loads the region's (shared) CA material into
// the new store. It reports the median of that span as median-ns; ns/op
// also counts Close. The first server of the process, which generates the
// keys, runs before the timer.
func BenchmarkNewServerAndDescribe(b *testing.B) {
	for _, mode := range []struct {
		name       string
		noListener bool
	}{{"listener", false}, {"no-listener", true}} {
		b.Run(mode.name, func(b *testing.B) {
			opts := &rdstest.Options{NoListener: mode.noListener}
			once := func() time.Duration {
				start := time.Now()
				srv := rdstest.NewServer(b, opts)
				client := rds.NewFromConfig(srv.AWSConfig())
				out, err := client.DescribeCertificates(context.Background(), &rds.DescribeCertificatesInput{})
				d := time.Since(start)
				if err != nil || len(out.Certificates) == 0 {
					b.Fatalf("DescribeCertificates: %v", err)
				}
				srv.Close()
				return d
			}
			once() // the process's first server pays for the keys
			var spans []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				spans = append(spans, once())
			}
			slices.Sort(spans)
			b.ReportMetric(float64(spans[len(spans)/2].Nanoseconds()), "median-ns")
			b.ReportMetric(float64(spans[len(spans)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
