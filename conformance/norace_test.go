//go:build !race

package conformance

// raceEnabled: the test binary runs without the race detector.
const raceEnabled = false
