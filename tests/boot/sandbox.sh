#!/bin/bash
# Runs a rendered boot script in a sandbox, for tests/integration/boot.rs.
#
#   unshare -r -m -n --fork bash sandbox.sh SANDBOX SCRIPT
#
# In its own user, mount and network namespaces (no network at all), the
# script sees the sandbox's copies of /etc and /var, a /dev holding only
# what it needs (two block devices standing in for the etcd volumes), and
# recording stubs in place of every command that would change the machine
# or reach the network (stubs/: apt-get, systemctl, kubeadm, curl, …).
# Everything the script writes lands under SANDBOX.
set -euo pipefail
sbx=$1 script=$2
stubs=$(cd "$(dirname "$0")/stubs" && pwd)

devices=()
for candidate in /dev/loop0 /dev/loop1 /dev/loop2 /dev/sda /dev/vda /dev/nvme0n1; do
  [ -b "$candidate" ] && devices+=("$candidate")
done
if [ "${#devices[@]}" -eq 0 ]; then
  echo "sandbox: no block device on this machine to stand in for a volume" >&2
  exit 97
fi
for name in null zero urandom random xvdu xvdv; do
  : > "$sbx/dev/$name"
done
for name in null zero urandom random; do
  mount --bind "/dev/$name" "$sbx/dev/$name"
done
mount --bind "${devices[0]}" "$sbx/dev/xvdu"
mount --bind "${devices[${#devices[@]}-1]}" "$sbx/dev/xvdv"
ln -sfn /proc/self/fd "$sbx/dev/fd"
mount --bind "$sbx/etc" /etc
mount --bind "$sbx/var" /var
mount --rbind "$sbx/dev" /dev

cd "$sbx"
exec env -i PATH="$stubs:/usr/sbin:/usr/bin:/sbin:/bin" HOME=/root SBX="$sbx" bash "$script"
