#!/usr/bin/env bash
# The README's test command: installs what the tests need, builds, and runs every test (root tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The Collector receiver (Go, its own module): vet and unit tests (config, schema drift, supervision).
(cd collector/xdpdecapreceiver && PATH="$PATH:/usr/local/go/bin" GOFLAGS=-buildvcs=false go vet ./... && PATH="$PATH:/usr/local/go/bin" GOFLAGS=-buildvcs=false go test -count=1 ./...)
npm test
