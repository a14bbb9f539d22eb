//go:build race

package stress

// raceEnabled: the test binary runs with the race detector, so the server is built with it too.
const raceEnabled = true
