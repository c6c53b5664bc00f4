#!/usr/bin/env bash
# The README's test command: installs what the tests need, lints, builds, and runs every test (root tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Style and structure first: formatters, linters, the layers of src/ (scripts/lint.sh; `--fix` applies the formatters).
bash scripts/lint.sh
# The Collector receiver (Go, its own module): its unit tests (config through the daemon's validator, supervision).
(cd collector/xdpdecapreceiver && PATH="$PATH:/usr/local/go/bin" GOFLAGS=-buildvcs=false go test -count=1 ./...)
npm test
