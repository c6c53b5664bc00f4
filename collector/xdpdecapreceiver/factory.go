// The xdp_decap receiver's factory: its type, default config and metrics receiver constructor.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"
)

// NewFactory returns the factory the Collector's builder registers (components.go of the distribution).
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		func() component.Config { return createDefaultConfig() },
		receiver.WithMetrics(createMetricsReceiver, metadata.MetricsStability),
	)
}

func createMetricsReceiver(_ context.Context, settings receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	return newReceiver(settings, cfg.(*Config), next, builtDaemon()), nil
}
