package memory_test

import (
	"testing"

	"github.com/rdsca/rdsca/memory"
	"github.com/rdsca/rdsca/rds"
	"github.com/rdsca/rdsca/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) rds.Store { return memory.New() })
}
