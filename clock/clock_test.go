package clock

import (
	"testing"
	"time"
)

func TestOffsetStartsAtInstantAndAdvances(t *testing.T) {
	wall := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c := &Offset{now: func() time.Time { return wall }}
	c.Set(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if got := c.Now(); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Now = %v", got)
	}
	wall = wall.Add(90 * time.Second)
	if got := c.Now(); !got.Equal(time.Date(2024, 1, 1, 0, 1, 30, 0, time.UTC)) {
		t.Fatalf("after 90 s of wall time: %v", got)
	}
	c.Advance(24 * time.Hour)
	if got := c.Now(); !got.Equal(time.Date(2024, 1, 2, 0, 1, 30, 0, time.UTC)) {
		t.Fatalf("after Advance: %v", got)
	}
	if c.Now().Location() != time.UTC {
		t.Error("not UTC")
	}
}

func TestNewOffsetUsesRealTime(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewOffset(start)
	if d := c.Now().Sub(start); d < 0 || d > time.Minute {
		t.Fatalf("NewOffset drifted by %v", d)
	}
}

func TestFixed(t *testing.T) {
	c := NewFixed(time.Date(2024, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)))
	if c.Now() != time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC) {
		t.Fatalf("Now = %v", c.Now())
	}
	c.Advance(time.Hour)
	if c.Now() != time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("after Advance: %v", c.Now())
	}
}
