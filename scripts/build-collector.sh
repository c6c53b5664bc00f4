#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of examples/otelcol/builder-config.yaml with ocb, cached by the manifest's hash.
#
# Usage: bash scripts/build-collector.sh        prints the collector binary's path on stdout (progress on stderr)
# Environment (the build's, never the Collector config's):
#   XDP_DECAP_DAEMON_NODE    the Node.js 24 the receiver runs the daemon with (default: this checkout's node_modules/.bin/node)
#   XDP_DECAP_DAEMON_SCRIPT  the daemon's cli.js (default: this checkout's dist/src/cli.js)
#   Both are absolute paths fixed in the binary (-ldflags -X); scripts/package.sh sets the installed ones
#   (/usr/lib/xdp-decap/...), which need not exist on the build host. Each pair of paths is its own cache entry.
# The binary lands in ${XDP_DECAP_CACHE:-/var/cache/xdp-decap}/otelcol-<hash>/ (outside the clone), so every
# later run, and every fresh clone on this machine, reuses it. Needs Go (>= 1.24; /usr/local/go/bin is searched)
# and the Go module proxy.
#
# Integrity: go.sum entries come from sum.golang.org, which through this proxy lacks some contrib components
# (netflowreceiver, signaltometricsconnector, ...). Those are fetched without it (GONOSUMDB) and instead
# checked against examples/otelcol/go.sum, the hashes recorded when this manifest was first built: a module
# whose content differs from the recorded hash stops the build (go's "SECURITY ERROR").
set -euo pipefail
cd "$(dirname "$0")/.."

MANIFEST=examples/otelcol/builder-config.yaml
PINNED_SUM=examples/otelcol/go.sum
CACHE_ROOT=${XDP_DECAP_CACHE:-/var/cache/xdp-decap}

export PATH="$PATH:/usr/local/go/bin"
if ! command -v go >/dev/null 2>&1; then
  echo "build-collector: Go is not installed (looked in PATH and /usr/local/go/bin); install Go >= 1.24 from go.dev or Debian's golang-1.24" >&2
  exit 2
fi

# ocb must be the release the components are pinned to: take it from the otlpreceiver line.
OCB_VERSION=$(sed -n 's#.*go.opentelemetry.io/collector/receiver/otlpreceiver \(v[0-9.]*\).*#\1#p' "$MANIFEST")
if [ -z "$OCB_VERSION" ]; then
  echo "build-collector: $MANIFEST names no otlpreceiver version; every component must be pinned" >&2
  exit 2
fi

# The xdp_decap receiver (a local module) runs the daemon at a path fixed in the binary, never taken from the
# collector config: this checkout's by default, the package's when scripts/package.sh builds. The cache key
# covers the receiver's sources and those paths (they are in LDFLAGS).
RECEIVER=collector/xdpdecapreceiver
RECEIVER_PKG=github.com/xdp-decap/xdp-decap/$RECEIVER
DAEMON_NODE=${XDP_DECAP_DAEMON_NODE:-$PWD/node_modules/.bin/node}
DAEMON_SCRIPT=${XDP_DECAP_DAEMON_SCRIPT:-$PWD/dist/src/cli.js}
for setting in "XDP_DECAP_DAEMON_NODE=$DAEMON_NODE" "XDP_DECAP_DAEMON_SCRIPT=$DAEMON_SCRIPT"; do
  path=${setting#*=}
  case "$path" in
    /*[[:space:]]* | /*[\'\"\$\`]*)
      echo "build-collector: ${setting%%=*}: '$path' contains white space or quotes; the daemon's path is passed in -ldflags: use a plain absolute path (or move the checkout)" >&2; exit 2 ;;
    /*) ;;
    *) echo "build-collector: ${setting%%=*}: '$path' is not an absolute path; the receiver runs exactly this file: give e.g. /usr/lib/xdp-decap/node/bin/node" >&2; exit 2 ;;
  esac
done
LDFLAGS="-s -w -X $RECEIVER_PKG.daemonNode=$DAEMON_NODE -X $RECEIVER_PKG.daemonScript=$DAEMON_SCRIPT"
HASH=$( { cat "$MANIFEST"; if [ -f "$PINNED_SUM" ]; then cat "$PINNED_SUM"; fi; echo "$LDFLAGS";
          find "$RECEIVER" -type f ! -name '*_test.go' ! -path '*/testdata/*' | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)
OUT="$CACHE_ROOT/otelcol-$HASH"
BIN="$OUT/otelcol-xdp-decap"
if [ -x "$BIN" ]; then
  echo "build-collector: cached $BIN" >&2
  echo "$BIN"
  exit 0
fi

export GONOSUMDB=github.com/open-telemetry/opentelemetry-collector-contrib,go.opentelemetry.io/collector/cmd/builder
export GOFLAGS=-buildvcs=false
start=$(date +%s)
mkdir -p "$CACHE_ROOT/tools"
OCB="$CACHE_ROOT/tools/ocb-$OCB_VERSION"
if [ ! -x "$OCB" ]; then
  echo "build-collector: go install go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
  tools=$(mktemp -d)
  GOBIN="$tools" go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
  mv "$tools/builder" "$OCB"
  rmdir "$tools"
fi

# Build in a scratch directory and move the result into place only when it is complete, so a killed build
# never leaves a half-written binary that the cache check above would take for a finished one.
work=$(mktemp -d "$CACHE_ROOT/build-XXXXXX")
trap 'rm -rf "$work"' EXIT
sed "s#^\(\s*output_path:\).*#\1 $work/src#" "$MANIFEST" > "$work/manifest.yaml"
echo "build-collector: generating sources (ocb $OCB_VERSION)" >&2
"$OCB" --config "$work/manifest.yaml" --skip-get-modules --skip-compilation >&2
if [ -f "$PINNED_SUM" ]; then cp "$PINNED_SUM" "$work/src/go.sum"; fi
echo "build-collector: resolving modules and compiling (the first build takes minutes)" >&2
"$OCB" --config "$work/manifest.yaml" --skip-generate --ldflags "$LDFLAGS" >&2
mkdir -p "$OUT"
cp "$work/src/go.sum" "$OUT/go.sum"
mv "$work/src/otelcol-xdp-decap" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
echo "build-collector: built $BIN in $(( $(date +%s) - start )) s" >&2
if [ ! -f "$PINNED_SUM" ]; then
  echo "build-collector: no $PINNED_SUM yet: record this build's hashes with cp $OUT/go.sum $PINNED_SUM" >&2
fi
echo "$BIN"
