#!/bin/sh
# Applies a systemd unit's file-system settings in a private mount namespace (run under `unshare --mount`), then execs the command.
# Usage: unit-sandbox.sh [--install SRC PREFIX] [--chdir DIR] UMASK PRIVATE_TMP PROTECT_HOME -- COMMAND...
#   (yes/no for the two switches). --install shows the directory SRC at PREFIX (e.g. a checkout at /opt/xdp-decap,
#   wherever the checkout lives: under /tmp or /root it would vanish behind PrivateTmp or ProtectHome), on a fresh
#   tmpfs over PREFIX's parent; --chdir is the unit's WorkingDirectory, entered once the file system is set up.
#   ProtectSystem=strict, ProtectKernelTunables=, ProtectControlGroups=: every mount read-only except /dev, /proc
#   (but /proc/sys) and the private /tmp; ProtectHome=yes: /home, /root, /run/user empty and inaccessible;
#   PrivateTmp=yes: fresh /tmp and /var/tmp. The seccomp-based settings are checked from an strace log instead.
set -eu
install_src='' install_prefix='' workdir=''
while :; do
  case "$1" in
    --install) install_src=$2 install_prefix=$3; shift 3 ;;
    --chdir) workdir=$2; shift 2 ;;
    *) break ;;
  esac
done
if [ -n "$install_src" ]; then
  # Before PrivateTmp and ProtectHome hide the source; the prefix's parent becomes a tmpfs of this namespace only.
  parent=$(dirname "$install_prefix")
  mount --bind "$install_src" /mnt
  mount -t tmpfs -o mode=0755 tmpfs "$parent"
  mkdir -p "$install_prefix"
  mount --move /mnt "$install_prefix"
fi
umask "$1"
private_tmp=$2
protect_home=$3
shift 4
if [ "$private_tmp" = yes ]; then
  for d in /tmp /var/tmp; do mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$d"; done
fi
if [ "$protect_home" = yes ]; then
  for d in /home /root /run/user; do
    if [ -d "$d" ]; then mount -t tmpfs -o mode=000 tmpfs "$d"; fi
  done
fi
mount --bind /proc/sys /proc/sys
findmnt -rn -o TARGET | sort -u | while read -r m; do
  case "$m" in
    /dev | /dev/* | /proc | /tmp | /var/tmp) continue ;;
    /proc/*) [ "$m" = /proc/sys ] || continue ;;
  esac
  if [ "$protect_home" = yes ]; then
    case "$m" in /home | /root | /run/user) continue ;; esac
  fi
  mount -o remount,bind,ro "$m"
done
if [ -n "$workdir" ]; then cd "$workdir"; fi
exec "$@"
