package server_test

import (
	"testing"

	"github.com/rdsca/rdsca/clock"
	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/server"
)

func TestAccountOf(t *testing.T) {
	for key, want := range map[string]string{
		"111111111111":         "111111111111",
		"012345678901":         "012345678901",
		"AKIAIOSFODNN7EXAMPLE": server.DefaultAccount,
		"11111111111":          server.DefaultAccount,
		"1111111111111":        server.DefaultAccount,
		"11111111111a":         server.DefaultAccount,
		"":                     server.DefaultAccount,
	} {
		if got := server.AccountOf(key); got != want {
			t.Errorf("AccountOf(%q) = %s, want %s", key, got, want)
		}
	}
}

func TestNewRejectsBadRegion(t *testing.T) {
	if _, err := server.New(server.Config{Store: memory.New(), Clock: clock.Real{}, Region: "moon"}); err == nil {
		t.Fatal("accepted region moon")
	}
}
