#!/usr/bin/env bash
# Fetches Debian's own kernel package for a release (bookworm: 6.1, trixie: 6.12), cached outside the clone.
#
# Usage: bash scripts/vm/fetch-kernel.sh SUITE     prints the kernel's directory on stdout (progress on stderr)
# The directory (${XDP_DECAP_CACHE:-/var/cache/xdp-decap}/kernels/<package>_<version>/) holds:
#   vmlinuz          the kernel qemu boots
#   modules/lib/modules/<release>/   its modules, with modules.dep (depmod run here: the package runs it in postinst)
#   release          the kernel release (uname -r in the guest)
#   initramfs.cpio.gz  scripts/vm/make-initramfs.sh's image for it (made by boot.sh on first use)
# The package is the one `linux-image-amd64` of SUITE depends on today (bookworm's from this host's sources,
# another suite's from the Debian mirror through a private apt state under the cache, added for the download
# only: the host's apt sources and lists are not touched). A new Debian kernel update is a new directory.
set -euo pipefail

SUITE=${1:?usage: fetch-kernel.sh SUITE (bookworm or trixie)}
CACHE_ROOT=${XDP_DECAP_CACHE:-/var/cache/xdp-decap}
MIRROR=${XDP_DECAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

case "$SUITE" in
  bookworm | trixie) ;;
  *) echo "fetch-kernel: unknown suite '$SUITE': use bookworm (Debian 12, kernel 6.1) or trixie (Debian 13, kernel 6.12)" >&2; exit 2 ;;
esac
for tool in apt-get dpkg-deb depmod; do
  command -v "$tool" >/dev/null 2>&1 || { echo "fetch-kernel: $tool is missing: apt-get install apt dpkg kmod" >&2; exit 2; }
done

# A private apt state per suite: its own sources, lists and download directory, no lock on the host's apt.
state="$CACHE_ROOT/kernels/apt-$SUITE"
mkdir -p "$state/lists/partial" "$state/archives/partial"
cat > "$state/sources.list" <<EOF
deb [signed-by=$KEYRING] $MIRROR $SUITE main
deb [signed-by=$KEYRING] ${MIRROR%/debian}/debian-security $SUITE-security main
EOF
apt_opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache::Archives=$state/archives" -o Dir::State::Status=/dev/null
  -o Debug::NoLocking=1 -o APT::Sandbox::User=root -o Acquire::Retries=3)
# Lists younger than a day are reused: the kernel of the day, without an index download on every run.
if [ -z "$(find "$state/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
  echo "fetch-kernel: apt-get update ($SUITE, private state $state)" >&2
  apt-get "${apt_opts[@]}" update -qq >&2
fi
package=$(apt-cache "${apt_opts[@]}" depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
version=$(apt-cache "${apt_opts[@]}" policy "$package" | sed -n 's/^ *Candidate: //p')
if [ -z "$package" ] || [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "fetch-kernel: $SUITE's linux-image-amd64 names no installable kernel package (looked in $MIRROR)" >&2
  exit 2
fi
DIR="$CACHE_ROOT/kernels/${package}_$version"
if [ -f "$DIR/.complete" ]; then
  echo "fetch-kernel: cached $DIR" >&2
  echo "$DIR"
  exit 0
fi

# Unpacked in a scratch directory and renamed into place only when complete: a killed run leaves no half kernel.
work=$(mktemp -d "$CACHE_ROOT/kernels/fetch-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "fetch-kernel: downloading $package $version" >&2
(cd "$work" && apt-get "${apt_opts[@]}" download "$package=$version" >&2)
dpkg-deb -x "$work"/*.deb "$work/pkg"
release=${package#linux-image-}
vmlinuz=$(find "$work/pkg/boot" -name "vmlinuz-$release" | head -n1)
moddir=$(find "$work/pkg" -maxdepth 4 -type d -path "*/lib/modules/$release" | head -n1)
if [ -z "$vmlinuz" ] || [ -z "$moddir" ]; then
  echo "fetch-kernel: $package has no boot/vmlinuz-$release or lib/modules/$release" >&2
  exit 2
fi
mkdir -p "$work/out/modules/lib/modules"
mv "$vmlinuz" "$work/out/vmlinuz"
mv "$moddir" "$work/out/modules/lib/modules/$release"
depmod -b "$work/out/modules" "$release"
echo "$release" > "$work/out/release"
touch "$work/out/.complete"
rm -rf "$DIR"
mv "$work/out" "$DIR"
echo "fetch-kernel: $DIR" >&2
echo "$DIR"
