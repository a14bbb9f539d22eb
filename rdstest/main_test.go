package rdstest_test

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
)

// t stands in the examples for the test's *testing.T, so that they read as
// test code: its Fatal panics (failing the example) and its Cleanup
// functions run when TestMain ends. Tests and benchmarks shadow it with
// their own t or b.
var t = &exampleT{}

type exampleT struct {
	testing.TB // nil: the methods below are all the package calls
	mu         sync.Mutex
	cleanups   []func()
}

func (*exampleT) Helper()                           {}
func (*exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (*exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (e *exampleT) Cleanup(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, f)
}

func (e *exampleT) cleanup() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, f := range slices.Backward(e.cleanups) {
		f()
	}
	e.cleanups = nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	t.cleanup()
	os.Exit(code)
}
