// The package's documentation and its go:generate line (mdatagen, pinned in ../tools/go.mod).

//go:generate go tool -modfile=../tools/go.mod mdatagen metadata.yaml

// Package xdpdecapreceiver is the xdp_decap receiver: it runs the xdp-decap daemon as a supervised child process,
// validates its settings with the daemon's own validator and forwards the daemon's metrics unchanged.
package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"
