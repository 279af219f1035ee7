package pgstore

import (
	"testing"

	"github.com/hubbub-chat/hubbub/internal/storetest"
)

func TestReads(t *testing.T) {
	testDSN(t)
	storetest.RunReads(t, factory)
}
