#!/usr/bin/env bash
# Makes (once) a clean Debian 12 minbase root for the package tests, cached outside the clone by its inputs' hash.
#
# Usage: bash scripts/debian-root.sh     prints the root's path on stdout (progress on stderr)
# The root lands in ${XDP_DECAP_CACHE:-/var/cache/xdp-decap}/debian12-minbase-<hash>/ and is never used in place:
# tests copy it (cp -a) and work on the copy, so it stays clean. It is `debootstrap --variant=minbase bookworm`
# from the Debian mirror this host's apt uses, with this host's Debian sources, an `apt-get update` done, and the
# .debs of the tests' tools (TEST_TOOLS) downloaded but NOT installed: a test installs xdp-decap first, so its
# Depends: are proven complete on a root that has none of them, and only then installs these from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
# What `xdp-decap demo` runs besides itself (src/demo/demo.ts checks for them), and systemd for
# `systemd-analyze verify` of the unit; none of them is a Depends: of the package.
TEST_TOOLS=(iproute2 iputils-ping tcpdump tcpreplay systemd)
CACHE_ROOT=${XDP_DECAP_CACHE:-/var/cache/xdp-decap}

if [ "$(id -u)" -ne 0 ]; then
  echo "debian-root: run as root (debootstrap, chroot): sudo bash $0" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "debian-root: debootstrap is missing: apt-get install debootstrap (scripts/install-deps.sh installs it)" >&2
  exit 2
fi

# The host's Debian sources (deb822 or one-line), only the files apt reads and only Debian's own archives.
host_sources() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -q 'debian\.org\|debian/\?$\|/debian[ /]' "$f" && echo "$f"
  done
  return 0
}
mapfile -t SOURCES < <(host_sources)
MIRROR=${XDP_DECAP_DEBIAN_MIRROR:-$(sed -n 's#^URIs:[[:space:]]*\(\S*/debian\)/\?$#\1#p; s#^deb[[:space:]]\+\(\S*/debian\)/\?[[:space:]]\+bookworm[[:space:]].*#\1#p' "${SOURCES[@]}" /dev/null | head -n1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}

HASH=$( { echo "$SUITE minbase $MIRROR ${TEST_TOOLS[*]}"; cat "$0"; for f in "${SOURCES[@]}"; do cat "$f"; done; } | sha256sum | cut -c1-16)
ROOT="$CACHE_ROOT/debian12-minbase-$HASH"
if [ -f "$ROOT/.complete" ]; then
  echo "debian-root: cached $ROOT" >&2
  echo "$ROOT"
  exit 0
fi

# Build in a scratch directory and rename it into place only when complete: a killed run leaves no half root.
mkdir -p "$CACHE_ROOT"
work=$(mktemp -d "$CACHE_ROOT/debian-root-build-XXXXXX")
cleanup() {
  local m
  for m in dev/pts dev proc; do mountpoint -q "$work/$m" 2>/dev/null && umount -l "$work/$m"; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
start=$(date +%s)
echo "debian-root: debootstrap --variant=minbase $SUITE from $MIRROR" >&2
debootstrap --variant=minbase "$SUITE" "$work" "$MIRROR" >&2
echo "debian-root: debootstrap took $(( $(date +%s) - start )) s" >&2

# The host's Debian sources replace debootstrap's one-line sources.list (adds -updates and -security).
if [ "${#SOURCES[@]}" -gt 0 ]; then
  rm -f "$work/etc/apt/sources.list"
  for f in "${SOURCES[@]}"; do cp "$f" "$work/etc/apt/sources.list.d/"; done
  [ -f /etc/apt/sources.list ] && [[ " ${SOURCES[*]} " == *" /etc/apt/sources.list "* ]] && mv "$work/etc/apt/sources.list.d/sources.list" "$work/etc/apt/sources.list"
fi
cp /etc/resolv.conf "$work/etc/resolv.conf"
mount -t proc proc "$work/proc"
chroot "$work" apt-get update -qq >&2
chroot "$work" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --download-only --no-install-recommends "${TEST_TOOLS[@]}" >&2
umount "$work/proc"
touch "$work/.complete"
rm -rf "$ROOT"
mv "$work" "$ROOT"
trap - EXIT
echo "debian-root: built $ROOT in $(( $(date +%s) - start )) s" >&2
echo "$ROOT"
