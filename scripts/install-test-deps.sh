#!/usr/bin/env bash
# Installs the Debian packages the tests use as real peers, when they are missing.
# Needs root (CI and the dev machines run as root); without root it says what is missing, and
# under CI=true it then fails.
set -euo pipefail
# The namespace lab (test/lab, bench/): ip/tc, nft, arping; setpriv (util-linux) drops
# CAP_NET_ADMIN in the ip resource test; keepalived is the benchmarks' reference.
# snmptrapd receives the alerts' SNMP traps; pacemaker ships the sample alert agents
# (/usr/share/pacemaker/alerts/) the script receiver is tested with. systemd gives the Debian
# package test `systemd-analyze verify`; installing it in a container is harmless: its
# maintainer scripts only talk to a running systemd (/run/systemd/system), and none runs there.
# samba and smbclient: the smb monitor's lab test runs its own smbd in a namespace. The
# filesystem resource's tests: e2fsprogs and xfsprogs (mkfs, fsck), psmisc (fuser ends the users
# of a busy mount), dmsetup (a device that stops answering, where the kernel has device-mapper).
# fence-agents (fence_ipmilan) + ipmitool + openipmi (ipmi_sim) test the command fence device.
packages=(iproute2 nftables iputils-arping util-linux chromium haproxy bind9 bind9-dnsutils etcd-server keepalived snmptrapd pacemaker systemd resource-agents pacemaker-cli-utils pcs samba smbclient xfsprogs e2fsprogs psmisc dmsetup fence-agents ipmitool openipmi)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ "${#missing[@]}" -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (install as root): ${missing[*]}" >&2
  # On a developer machine the tests that need them skip, naming them; under CI they must run.
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: cannot install them without root; failing" >&2
    exit 1
  fi
  exit 0
fi
echo "== installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Tests start their own named, etcd, haproxy, keepalived, snmptrapd and smbd on free ports: keep the packages'
# services from starting on install (policy-rc.d exit 101 = "not allowed"), unless one exists (pacemaker's corosync must not start either).
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
