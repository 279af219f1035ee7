package pgstore

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestBlocks(t *testing.T) {
	testDSN(t)
	storetest.RunBlocks(t, factory)
}
