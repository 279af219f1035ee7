package sqlitestore_test

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestBlocks(t *testing.T) {
	storetest.RunBlocks(t, factory)
}
