//go:build !unix

package sqlite

import "os"

// lock opens the lock file; without flock, exclusivity is not enforced.
func lock(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}
