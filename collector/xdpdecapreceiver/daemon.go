// Where the xdp-decap daemon is: fixed when the distribution is built (-ldflags -X), never taken from user config.

package xdpdecapreceiver // import "github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver"

import (
	"errors"
	"fmt"
	"os"
)

// Set by scripts/build-collector.sh with
// -ldflags "-X github.com/xdp-decap/xdp-decap/collector/xdpdecapreceiver.daemonNode=/abs/node -X ...daemonScript=/abs/dist/src/cli.js".
var (
	// daemonNode is the Node.js 24 executable (the checkout's node_modules/.bin/node).
	daemonNode string
	// daemonScript is the daemon's CLI entry point (the checkout's dist/src/cli.js; this module's tests set
	// src/cli.ts, which Node.js 24 runs as it is).
	daemonScript string
)

// daemonCommand is the fixed executable and leading arguments; the receiver appends only its own arguments
// (run --config FILE, or validate --config - --json).
type daemonCommand struct {
	path string
	args []string
	// files that must exist for the command to run (the executable, the script).
	files []string
}

func builtDaemon() daemonCommand {
	return daemonCommand{path: daemonNode, args: []string{daemonScript}, files: []string{daemonNode, daemonScript}}
}

// check says, in one line, why the command cannot run.
func (d daemonCommand) check() error {
	for _, f := range d.files {
		if f == "" {
			return errors.New("this collector was built without the xdp-decap daemon's path: build it with scripts/build-collector.sh, which sets it")
		}
	}
	for _, f := range d.files {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("xdp-decap daemon not found at the path fixed when this collector was built (%w): run npm ci && npm run build in the checkout, or rebuild the collector with scripts/build-collector.sh", err)
		}
	}
	return nil
}
