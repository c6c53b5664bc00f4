#!/bin/sh
# Applies a systemd unit's file-system settings in a private mount namespace (run under `unshare --mount`), then execs the command.
# Usage: unit-sandbox.sh UMASK PRIVATE_TMP PROTECT_HOME -- COMMAND...   (yes/no for the two switches)
#   ProtectSystem=strict, ProtectKernelTunables=, ProtectControlGroups=: every mount read-only except /dev, /proc
#   (but /proc/sys) and the private /tmp; ProtectHome=yes: /home, /root, /run/user empty and inaccessible;
#   PrivateTmp=yes: fresh /tmp and /var/tmp. The seccomp-based settings are checked from an strace log instead.
set -eu
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
exec "$@"
