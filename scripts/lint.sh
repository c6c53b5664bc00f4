#!/usr/bin/env bash
# The linters and formatters, run by the test command: a finding fails it. `--fix` applies the formatters instead.
#
#   TypeScript  biome (lint + format, biome.jsonc), knip (unused files, exports, dependencies; knip.json),
#               dependency-cruiser (layers point one way, no import circles; .dependency-cruiser.cjs)
#   C (bpf/)    clang-format (bpf/.clang-format)
#   Go          gofmt, go vet, staticcheck, mdatagen's generated files up to date (collector/xdpdecapreceiver)
# Every tool comes from the project's own installs: npm devDependencies, apt (clang-format), the Go module proxy
# (staticcheck, cached under ${XDP_DECAP_CACHE:-/var/cache/xdp-decap}/tools).
set -euo pipefail
cd "$(dirname "$0")/.."

FIX=0
[ "${1:-}" = --fix ] && FIX=1
# node_modules/.bin first: knip and dependency-cruiser run on the project's Node 24, not a host's older node.
export PATH="$PWD/node_modules/.bin:$PATH:/usr/local/go/bin"
STATICCHECK_VERSION=v0.8.2
CACHE_ROOT=${XDP_DECAP_CACHE:-/var/cache/xdp-decap}
failed=()

run() {
  local name=$1
  shift
  if "$@"; then
    echo "lint: $name: ok" >&2
  else
    echo "lint: $name: FAILED (see above)" >&2
    failed+=("$name")
  fi
}

if [ "$FIX" = 1 ]; then
  node_modules/.bin/biome check --write .
  clang-format -i bpf/*.c bpf/*.h
  gofmt -w collector/xdpdecapreceiver
  exit 0
fi

run biome node_modules/.bin/biome check --error-on-warnings .
run knip node_modules/.bin/knip --no-progress
run dependency-cruiser node_modules/.bin/depcruise --config .dependency-cruiser.cjs src bench test scripts dashboards
run clang-format clang-format --dry-run --Werror bpf/*.c bpf/*.h
gofmt_out() {
  local files
  files=$(gofmt -l collector/xdpdecapreceiver)
  [ -z "$files" ] || { echo "gofmt: not formatted (run bash scripts/lint.sh --fix): $files"; return 1; }
}
run gofmt gofmt_out
STATICCHECK="$CACHE_ROOT/tools/staticcheck-$STATICCHECK_VERSION"
if [ ! -x "$STATICCHECK" ]; then
  mkdir -p "$CACHE_ROOT/tools"
  tools=$(mktemp -d)
  GOBIN="$tools" GOFLAGS=-buildvcs=false go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" >&2
  mv "$tools/staticcheck" "$STATICCHECK"
  rmdir "$tools"
fi
go_checks() {
  (cd collector/xdpdecapreceiver && GOFLAGS=-buildvcs=false go vet ./... && GOFLAGS=-buildvcs=false "$STATICCHECK" ./...)
}
run "go vet + staticcheck" go_checks
run "mdatagen output up to date" bash collector/xdpdecapreceiver/check-generated.sh

if [ "${#failed[@]}" -gt 0 ]; then
  echo "lint: failed: ${failed[*]}" >&2
  exit 1
fi
