#!/usr/bin/env bash
# The kernel matrix: the kernel suite on Debian 12's and 13's own kernels (booted under qemu) and on this host's kernel.
#
# Usage: KERNEL=6.1|6.12|host|all bash scripts/kernel-matrix.sh [RESULTS_DIR]
#   6.1    Debian 12 (bookworm)'s current linux-image-amd64, booted under qemu-system-x86_64 (TCG: no KVM needed)
#   6.12   Debian 13 (trixie)'s, its package fetched through a private apt state for the download only
#   host   the running kernel, no VM
#   all    (default) host, then 6.1, then 6.12
# Each kernel runs scripts/vm/kernel-suite.sh: every shipped build through the verifier (instructions, time), the
# kernel tests (rule table, property test, build choice, flow cache, a live attach on a veth), and a replay of
# the crafted tunnel capture. Results land in RESULTS_DIR/<kernel>/ (default: a new /var/tmp/xdp-decap-matrix-*),
# a table is printed at the end, and the exit status is 1 when any kernel failed.
# Installs what it needs (scripts/install-deps.sh, npm run build) unless XDP_DECAP_MATRIX_SETUP=0 (the tests
# set it: they have built already). Kernels and initramfs images are cached under ${XDP_DECAP_CACHE:-/var/cache/xdp-decap}.
# A guest takes 3-6 minutes under TCG on 2 cores (see README, "Kernels").
set -euo pipefail
cd "$(dirname "$0")/.."

KERNEL=${KERNEL:-all}
case "$KERNEL" in
  all) KERNELS=(host 6.1 6.12) ;;
  host | 6.1 | 6.12) KERNELS=("$KERNEL") ;;
  *) echo "kernel-matrix: KERNEL=$KERNEL: use 6.1 (Debian 12), 6.12 (Debian 13), host, or all" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "kernel-matrix: run as root (BPF, namespaces, the VM's view of the host): sudo KERNEL=$KERNEL bash $0" >&2
  exit 2
fi
if [ "${XDP_DECAP_MATRIX_SETUP:-1}" = 1 ]; then
  bash scripts/install-deps.sh
  npm run build --silent
fi
# The guest sees the host's files, but not under /run (its own tmpfs): results go where it can reach them.
RESULTS=${1:-$(mktemp -d /var/tmp/xdp-decap-matrix-XXXXXX)}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
case "$RESULTS" in
  /run/* | /proc/* | /sys/* | /dev/*) echo "kernel-matrix: $RESULTS is not visible to the guest: use a directory under /var/tmp or the checkout" >&2; exit 2 ;;
esac

# One capture for every kernel, so their replays can be compared byte for byte.
CAPTURE=$RESULTS/tunnels.pcap
[ -s "$CAPTURE" ] || /usr/bin/python3 test/fixtures/craft-tunnels.py "$CAPTURE" > /dev/null

status=0
for kernel in "${KERNELS[@]}"; do
  out=$RESULTS/$kernel
  rm -rf "$out"
  mkdir -p "$out"
  start=$(date +%s)
  if [ "$kernel" = host ]; then
    bash scripts/vm/kernel-suite.sh "$out" "$CAPTURE" > "$out/job.log" 2>&1 && rc=0 || rc=$?
    echo "$rc" > "$out/job.rc"
  else
    suite=bookworm
    [ "$kernel" = 6.12 ] && suite=trixie
    kdir=$(bash scripts/vm/fetch-kernel.sh "$suite")
    job=$RESULTS/$kernel.job.sh
    printf 'cd %q && exec bash scripts/vm/kernel-suite.sh /run/vm/results %q\n' "$PWD" "$CAPTURE" > "$job"
    bash scripts/vm/boot.sh "$kdir" "$job" "$out" && rc=0 || rc=$?
  fi
  echo "$(( $(date +%s) - start ))" > "$out/seconds"
  echo "kernel-matrix: $kernel: exit $rc in $(cat "$out/seconds") s ($out)" >&2
  [ "$rc" -eq 0 ] || status=1
done
node_modules/.bin/node test/matrix/summary.ts "$RESULTS" "${KERNELS[@]}"
exit $status
