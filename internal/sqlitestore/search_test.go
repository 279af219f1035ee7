package sqlitestore_test

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestSearch(t *testing.T) {
	storetest.RunSearch(t, factory)
}
