//go:build !race

package stress

// raceEnabled: the test binary runs without the race detector.
const raceEnabled = false
