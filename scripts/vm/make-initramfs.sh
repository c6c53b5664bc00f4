#!/usr/bin/env bash
# Makes the initramfs a test VM boots with: static busybox, the 9p/virtio/overlay modules of one kernel, scripts/vm/init.
#
# Usage: bash scripts/vm/make-initramfs.sh KERNEL_DIR     writes KERNEL_DIR/initramfs.cpio.gz (cached by its inputs)
# KERNEL_DIR is what scripts/vm/fetch-kernel.sh printed. The modules are decompressed here (busybox insmod reads
# plain .ko only) and listed in load order (modprobe --show-depends against the kernel's own modules.dep).
set -euo pipefail
cd "$(dirname "$0")/../.."

KDIR=${1:?usage: make-initramfs.sh KERNEL_DIR}
release=$(cat "$KDIR/release")
BUSYBOX=/usr/bin/busybox
# What /init needs before the root is mounted: the PCI transport, 9p over virtio, and overlayfs.
MODULES=(virtio_pci 9pnet_virtio 9p overlay)

# ldd fails on a static executable ("not a dynamic executable"): Debian's busybox package is dynamic.
if [ ! -x "$BUSYBOX" ] || ldd "$BUSYBOX" > /dev/null 2>&1; then
  echo "make-initramfs: $BUSYBOX is not a static busybox: apt-get install busybox-static" >&2
  exit 2
fi
hash=$( { sha256sum "$BUSYBOX" scripts/vm/init "$0"; echo "${MODULES[*]} $release"; } | sha256sum | cut -c1-16)
if [ -f "$KDIR/initramfs.cpio.gz" ] && [ "$(cat "$KDIR/initramfs.hash" 2>/dev/null)" = "$hash" ]; then
  echo "$KDIR/initramfs.cpio.gz"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,newroot,lower,upper,modules}
cp "$BUSYBOX" "$work/bin/busybox"
ln -s busybox "$work/bin/sh"
cp scripts/vm/init "$work/init"
chmod 755 "$work/init"
: > "$work/modules/load-order"
# "builtin NAME" lines need nothing; "insmod PATH [args]" lines are the files, dependencies first.
while read -r verb path _; do
  [ "$verb" = insmod ] || continue
  name=$(basename "$path")
  name=${name%.xz}; name=${name%.zst}
  case "$path" in
    *.xz) xz -dc "$path" > "$work/modules/$name" ;;
    *.zst) zstd -qdc "$path" > "$work/modules/$name" ;;
    *) cp "$path" "$work/modules/$name" ;;
  esac
  grep -qx "$name" "$work/modules/load-order" || echo "$name" >> "$work/modules/load-order"
done < <(modprobe -d "$KDIR/modules" -S "$release" --show-depends -a "${MODULES[@]}")
(cd "$work" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) > "$KDIR/initramfs.cpio.gz.tmp"
mv "$KDIR/initramfs.cpio.gz.tmp" "$KDIR/initramfs.cpio.gz"
echo "$hash" > "$KDIR/initramfs.hash"
echo "$KDIR/initramfs.cpio.gz"
