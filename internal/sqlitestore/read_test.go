package sqlitestore_test

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestReads(t *testing.T) {
	storetest.RunReads(t, factory)
}
