package e2e

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	rdssdk "github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsca/rdsca/internal/testenv"
	"github.com/rdsca/rdsca/postgres/pgtest"
)

// TestReplicasSharePostgres runs three rdsca processes on one PostgreSQL
// schema and drives them concurrently with SDK clients (issue 6 item 2).
func TestReplicasSharePostgres(t *testing.T) {
	needBinary(t)
	dsn := pgtest.DSN(t)
	home := t.TempDir()

	// Start the three together so their migrations race too.
	procs := make([]*proc, 3)
	for i := range procs {
		addr := testenv.FreeAddr(t)
		procs[i] = spawn(t, home, nil, "--store", dsn, "--listen", addr, "--transition-delay", "0")
		procs[i].addr = addr
	}
	for _, p := range procs {
		waitHealthy(t, p)
	}
	// Stop the processes before pgtest drops the schema (cleanups run LIFO).
	t.Cleanup(func() {
		for _, p := range procs {
			if !p.exited() {
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
	})
	clients := func(key, region string) []*rdssdk.Client {
		cs := make([]*rdssdk.Client, len(procs))
		for i, p := range procs {
			cs[i] = newClient(t, p.URL(), key, region)
		}
		return cs
	}

	t.Run("ReadYourWriteAcrossReplicas", func(t *testing.T) {
		cs := clients("210000000001", "us-east-1")
		for round, id := range []string{rsa4096, ecc384, rsa2048, rsa4096} {
			w := round % 3
			modify(t, cs[w], id)
			for r, c := range cs {
				if r == w {
					continue
				}
				got := overridden(describeAll(t, c).Certificates)
				if len(got) != 1 || got[0] != id {
					t.Fatalf("round %d: after ModifyCertificates %s on replica %d, replica %d shows override %v", round, id, w, r, got)
				}
			}
		}
		for round := 0; round < 3; round++ {
			id := fmt.Sprintf("replica-db-%d", round)
			w := (round + 1) % 3
			createDB(t, cs[w], createInput(id, "postgres"))
			for r, c := range cs {
				if r == w {
					continue
				}
				d := describeDB(t, c, id)
				if aws.ToString(d.DBInstanceIdentifier) != id {
					t.Fatalf("replica %d: DescribeDBInstances %s returned %q", r, id, aws.ToString(d.DBInstanceIdentifier))
				}
			}
		}
	})

	t.Run("ConcurrentModifyCertificates", func(t *testing.T) {
		values := []string{rsa2048, rsa4096, ecc384}
		const scopes = 4
		const rounds = 8
		for s := 0; s < scopes; s++ {
			cs := clients(fmt.Sprintf("2200000000%02d", s), "us-east-1")
			var (
				mu    sync.Mutex
				acked = map[string]bool{}
				errs  []error
				wg    sync.WaitGroup
			)
			for r := range cs {
				wg.Add(1)
				go func(r int) {
					defer wg.Done()
					for i := 0; i < rounds; i++ {
						id := values[(r+i)%len(values)]
						if i == rounds-1 {
							// Every writer ends on rsa2048 or rsa4096,
							// so ecc384 can never be the final override.
							id = values[r%2]
						}
						out, err := cs[r].ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(id)})
						mu.Lock()
						if err != nil {
							errs = append(errs, fmt.Errorf("replica %d ModifyCertificates %s: %w", r, id, err))
						} else if got := aws.ToString(out.Certificate.CertificateIdentifier); got != id {
							errs = append(errs, fmt.Errorf("replica %d ModifyCertificates %s answered %s", r, id, got))
						} else {
							acked[id] = true
						}
						mu.Unlock()
					}
				}(r)
			}
			wg.Wait()
			for _, err := range errs {
				t.Error(err)
			}
			var first string
			for r, c := range cs {
				got := overridden(describeAll(t, c).Certificates)
				if len(got) != 1 {
					t.Fatalf("scope %d replica %d: overridden %v, want one", s, r, got)
				}
				if !acked[got[0]] {
					t.Fatalf("scope %d replica %d: override %s was never acknowledged (%v)", s, r, got[0], acked)
				}
				if got[0] == ecc384 {
					t.Fatalf("scope %d replica %d: override %s, but no writer's last acknowledged write was %s", s, r, got[0], ecc384)
				}
				if r == 0 {
					first = got[0]
				} else if got[0] != first {
					t.Fatalf("scope %d: replica %d shows %s, replica 0 shows %s", s, r, got[0], first)
				}
			}
		}

		// Sequential writes by one client spread over the replicas, while
		// other scopes are written concurrently: the last acknowledged wins.
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for s := 0; s < 3; s++ {
			wg.Add(1)
			go func(s int) {
				defer wg.Done()
				cs := clients(fmt.Sprintf("2300000000%02d", s), "us-east-1")
				last := ""
				for i := 0; i < 10; i++ {
					id := values[(i*7+s)%len(values)]
					if _, err := cs[(i+s)%3].ModifyCertificates(ctx(t), &rdssdk.ModifyCertificatesInput{CertificateIdentifier: aws.String(id)}); err != nil {
						errc <- fmt.Errorf("scope %d: ModifyCertificates %s: %w", s, id, err)
						return
					}
					last = id
				}
				for r, c := range cs {
					out, err := c.DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{})
					if err != nil {
						errc <- err
						return
					}
					if got := overridden(out.Certificates); len(got) != 1 || got[0] != last {
						errc <- fmt.Errorf("sequential scope %d: replica %d shows %v, want [%s]", s, r, got, last)
					}
				}
			}(s)
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	})

	t.Run("ConcurrentCreateSameIdentifier", func(t *testing.T) {
		cs := clients("240000000001", "us-east-1")
		for round := 0; round < 5; round++ {
			id := fmt.Sprintf("race-db-%d", round)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, len(cs))
			for r := range cs {
				wg.Add(1)
				go func(r int) {
					defer wg.Done()
					<-start
					_, errs[r] = cs[r].CreateDBInstance(ctx(t), createInput(id, "mysql"))
				}(r)
			}
			close(start)
			wg.Wait()
			ok := 0
			for r, err := range errs {
				switch {
				case err == nil:
					ok++
				case errCode(err) == "DBInstanceAlreadyExists":
				default:
					t.Errorf("round %d replica %d: %v, want success or DBInstanceAlreadyExists", round, r, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d creates of %s succeeded, want exactly 1 (%v)", round, ok, id, errs)
			}
			for _, c := range cs {
				describeDB(t, c, id)
			}
		}
	})

	t.Run("CAMaterialRace", func(t *testing.T) {
		for _, region := range []string{"eu-west-3", "ap-southeast-2"} {
			cs := clients("250000000001", region)
			var wg sync.WaitGroup
			start := make(chan struct{})
			outs := make([]*rdssdk.DescribeCertificatesOutput, len(cs))
			errs := make([]error, len(cs))
			for r := range cs {
				wg.Add(1)
				go func(r int) {
					defer wg.Done()
					<-start
					outs[r], errs[r] = cs[r].DescribeCertificates(ctx(t), &rdssdk.DescribeCertificatesInput{})
				}(r)
			}
			close(start)
			wg.Wait()
			for r, err := range errs {
				if err != nil {
					t.Fatalf("%s replica %d: DescribeCertificates: %v", region, r, err)
				}
			}
			want := thumbprints(outs[0].Certificates)
			if len(want) == 0 {
				t.Fatalf("%s: no certificates", region)
			}
			for id, tp := range want {
				if tp == "" {
					t.Fatalf("%s: %s has no thumbprint", region, id)
				}
			}
			for r := 1; r < len(outs); r++ {
				got := thumbprints(outs[r].Certificates)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: replica %d thumbprints %v, replica 0 %v", region, r, got, want)
				}
			}
			// And later reads agree with the first answers.
			for r, c := range cs {
				if got := thumbprints(describeAll(t, c).Certificates); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: later read on replica %d thumbprints %v, want %v", region, r, got, want)
				}
			}
		}
	})

	for i, p := range procs {
		if p.exited() {
			t.Fatalf("replica %d exited: %v", i, p.err)
		}
	}
}
