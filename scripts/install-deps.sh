#!/usr/bin/env bash
# Installs what xdp-decap builds and tests with on Debian/Ubuntu (as root): apt packages, Node 24 via npm, npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  clang llvm            # builds bpf/*.bpf.c (clang -target bpf) and the layout probe
  libbpf1 libbpf-dev    # libbpf at run time (through koffi) and bpf_helpers.h at build time
  linux-libc-dev        # linux/bpf.h and friends
  iproute2              # ip netns, veth, vxlan for the testbeds
  iputils-ping          # traffic in the testbeds
  tcpdump tshark        # real taps and a reference decoder for the tests
  wireshark-common      # mergecap, editcap, capinfos: the capture tests make and check odd pcapng files
  tcpreplay             # injects crafted Geneve frames (this kernel may have no Geneve device)
  python3-scapy         # crafts the GRE/ERSPAN/Geneve/VXLAN-GPE captures the tunnel replay test checks against tshark
  bpftool procps        # tests check that nothing of theirs is left attached or running
  softflowd nfdump      # a real NetFlow/IPFIX exporter as the downstream tap, and nfcapd/nfdump for reconcile
  prometheus curl       # the Grafana dashboard's queries run against a real Prometheus; curl inside namespaces
  util-linux strace systemd  # setpriv/unshare/nsenter, strace and systemd-analyze: the systemd unit's settings tested for real
  bindfs                # a FUSE mount (no O_TMPFILE there): replay's fallback for an interrupted write, tested for real
  make ca-certificates
  dpkg-dev binutils lintian  # npm run package: dpkg-deb, dpkg-shlibdeps, strip; lintian checks the .deb
  debootstrap           # the package test's clean Debian 12 root (scripts/debian-root.sh)
  qemu-system-x86 busybox-static  # the kernel matrix: Debian's own kernels booted under qemu (scripts/vm/)
  kmod cpio xz-utils zstd         #   their modules (depmod, modprobe --show-depends) into a small initramfs
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get, bpffs, network namespaces): sudo bash $0" >&2
  exit 2
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node 24 LTS comes from the `node` package on npm (a devDependency): npm scripts run it from node_modules/.bin.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# bpffs for pins (the live plugin pins its links there).
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
