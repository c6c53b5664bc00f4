#!/usr/bin/env bash
# Boots a Debian kernel under qemu (TCG) on the host's root, read-only, runs one job script as init, powers off.
#
# Usage: bash scripts/vm/boot.sh KERNEL_DIR JOB RESULTS_DIR
#   KERNEL_DIR   from scripts/vm/fetch-kernel.sh (vmlinuz, modules; the initramfs is made here on first use)
#   JOB          a bash script; the guest runs it as root, in / of a copy-on-write view of the host's root (the
#                host's files read-only over virtio-9p, writes to a tmpfs overlay), with its own /proc, /sys, /dev,
#                /tmp, bpffs, and RESULTS_DIR mounted read-write at /run/vm/results
#   RESULTS_DIR  receives job.sh, job.log (its output), job.rc (its exit status), console.log (the serial line),
#                dmesg.txt (the guest kernel's log at the end)
#                crashes.txt (the guest kernel's lines about processes a core-dumping signal killed)
# Exit status: the job's; 124 when the VM ran over XDP_DECAP_VM_TIMEOUT seconds (default 1800), 125 when the guest
# stopped without a job status (a boot failure: console.log says why).
# A job that failed while the guest's kernel logged a process killed by a signal (a crash of the emulation: see
# below) is run once more in a fresh boot, saying so; the first run's logs are kept as *.first-run.
# Environment: XDP_DECAP_VM_MEMORY (MiB, default 4096), XDP_DECAP_VM_CPUS (default 1, see below).
# No KVM is needed or used: TCG, `-cpu max,-pku,-la57` (XDP_DECAP_VM_CPU) and one vCPU. Node (V8's JIT code) crashed
# under TCG with PKU or 5-level paging emulated, and with two vCPUs (multi-threaded TCG: code one thread writes, run
# by another): 7 processes killed in 3 runs of the 6.1 suite with two, none in 3 runs with one, each about 145 s.
# The kernel logs every process a core-dumping signal kills (print-fatal-signals=1): a job that fails with such a
# crash is run once more (below).
set -euo pipefail
cd "$(dirname "$0")/../.."

KDIR=${1:?usage: boot.sh KERNEL_DIR JOB RESULTS_DIR}
JOB=${2:?usage: boot.sh KERNEL_DIR JOB RESULTS_DIR}
RESULTS=${3:?usage: boot.sh KERNEL_DIR JOB RESULTS_DIR}
TIMEOUT=${XDP_DECAP_VM_TIMEOUT:-1800}
QEMU=qemu-system-x86_64

command -v "$QEMU" >/dev/null 2>&1 || { echo "boot: $QEMU is missing: apt-get install qemu-system-x86 (scripts/install-deps.sh installs it)" >&2; exit 2; }
[ -f "$KDIR/vmlinuz" ] || { echo "boot: $KDIR/vmlinuz not found: give the directory scripts/vm/fetch-kernel.sh printed" >&2; exit 2; }
[ -f "$JOB" ] || { echo "boot: job script $JOB not found" >&2; exit 2; }
initramfs=$(bash scripts/vm/make-initramfs.sh "$KDIR")
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
cp "$JOB" "$RESULTS/job.sh"

# TCG runs one host thread per guest CPU; the guest's clock is the host's, so timeouts inside it are real time.
# A guest that has not started the job within BOOT_TIMEOUT seconds (a boot that hangs under TCG, seen once in
# dozens of boots) is stopped and booted once more.
BOOT_TIMEOUT=${XDP_DECAP_VM_BOOT_TIMEOUT:-120}
run_qemu() {
  timeout --kill-after=10 "$TIMEOUT" "$QEMU" \
    -accel tcg,thread=multi -cpu "${XDP_DECAP_VM_CPU:-max,-pku,-la57}" -smp "${XDP_DECAP_VM_CPUS:-1}" -m "${XDP_DECAP_VM_MEMORY:-4096}" \
    -machine q35 -nographic -no-reboot -nic none -monitor none -serial "file:$RESULTS/console.log" \
    -kernel "$KDIR/vmlinuz" -initrd "$initramfs" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 print-fatal-signals=1 vm.kdir=$KDIR" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$RESULTS,mount_tag=results,security_model=none,multidevs=remap" \
    < /dev/null > "$RESULTS/qemu.log" 2>&1 &
  qemu_pid=$!
  local waited=0
  while [ ! -e "$RESULTS/job.log" ] && kill -0 "$qemu_pid" 2>/dev/null; do
    if [ "$waited" -ge "$BOOT_TIMEOUT" ]; then
      echo "boot: no job started within ${BOOT_TIMEOUT} s; stopping this boot" >&2
      kill "$qemu_pid" 2>/dev/null
      wait "$qemu_pid" 2>/dev/null
      return 200
    fi
    sleep 1
    waited=$((waited + 1))
  done
  wait "$qemu_pid"
}
qemu_pid=
trap 'if [ -n "$qemu_pid" ]; then kill "$qemu_pid" 2>/dev/null || true; fi' EXIT
start=$(date +%s)
set +e
boot_once() {
  local attempt
  for attempt in 1 2; do
    rm -f "$RESULTS/job.rc" "$RESULTS/job.log" "$RESULTS/crashes.txt"
    run_qemu
    qemu_status=$?
    [ "$qemu_status" -eq 200 ] || break
  done
}
boot_once
if [ -s "$RESULTS/job.rc" ] && [ "$(cat "$RESULTS/job.rc")" != 0 ] && [ -s "$RESULTS/crashes.txt" ]; then
  echo "boot: the job failed (exit $(cat "$RESULTS/job.rc")) while the guest's kernel logged a crash:" >&2
  sed 's/^/boot:   /' "$RESULTS/crashes.txt" >&2
  echo "boot: running it once more (first run's logs kept as *.first-run)" >&2
  for f in job.log console.log crashes.txt dmesg.txt job.rc; do mv "$RESULTS/$f" "$RESULTS/$f.first-run" 2>/dev/null; done
  boot_once
fi
set -e
echo "boot: $(cat "$KDIR/release") ran $(( $(date +%s) - start )) s (qemu exit $qemu_status)" >&2
if [ "$qemu_status" -eq 200 ]; then
  echo "boot: the guest did not boot twice; see $RESULTS/console.log" >&2
  exit 125
fi
if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
  echo "boot: the VM ran over ${TIMEOUT} s and was stopped; see $RESULTS/console.log" >&2
  exit 124
fi
if [ ! -s "$RESULTS/job.rc" ]; then
  echo "boot: the guest stopped without running the job to its end; last console lines:" >&2
  tail -n 15 "$RESULTS/console.log" >&2 || true
  exit 125
fi
exit "$(cat "$RESULTS/job.rc")"
