// Component type and stability of the xdp_decap receiver, as declared in ../../metadata.yaml (mdatagen's layout, written by hand).

package metadata // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver/internal/metadata"

import (
	"go.opentelemetry.io/collector/component"
)

var (
	// Type is the receiver's key in a collector config: receivers: { xdp_decap: ... }.
	Type = component.MustNewType("xdp_decap")
	// ScopeName names the receiver's own logger and telemetry.
	ScopeName = "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"
)

const (
	// MetricsStability is the stability of the metrics signal.
	MetricsStability = component.StabilityLevelAlpha
)
