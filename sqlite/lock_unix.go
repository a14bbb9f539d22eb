//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

// lock takes an exclusive advisory lock on path, created if absent. The
// kernel drops it when the process dies, so a killed rdsca leaves none.
func lock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrInUse
		}
		return nil, err
	}
	return f, nil
}
