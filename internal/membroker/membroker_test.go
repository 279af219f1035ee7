package membroker_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/hubbub-chat/hubbub/internal/brokertest"
	"github.com/hubbub-chat/hubbub/internal/chat"
	"github.com/hubbub-chat/hubbub/internal/membroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	brokertest.Run(t, func(t *testing.T) chat.Broker {
		b := membroker.New()
		t.Cleanup(func() { b.Close() })
		return b
	})
}
