#!/usr/bin/env bash
# The pgbouncer the generated Deployment pins, from Debian's registry, into a cached
# folder: Debian 12 (these machines) packages pgbouncer 1.18, older than prepared
# statement tracking (1.21); Debian 13 (trixie) packages 1.24.1, built against glibc
# 2.41. So trixie's pgbouncer is unpacked together with trixie's loader and the
# libraries it links (`apt-get download` with a private apt state: the machine's own
# sources and dpkg database stay untouched), and scripts/pgbouncer_real.py runs it as
#   $ROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 --library-path $ROOT/usr/lib/x86_64-linux-gnu $ROOT/usr/sbin/pgbouncer
# Usage: fetch_pgbouncer_debian.sh <version, e.g. 1.24.1> <cache folder>
# Does nothing when the folder already holds that version.
set -euo pipefail
version=$1 root=$2
loader=$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
run() { "$loader" --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/sbin/pgbouncer" "$@"; }
if [ -x "$loader" ] && run --version 2>/dev/null | grep -q "^PgBouncer $version\$"; then
  exit 0
fi
# The archive keys of trixie ship in bookworm's debian-archive-keyring.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || { echo "fetch-pgbouncer: $keyring is missing (apt-get install debian-archive-keyring)" >&2; exit 1; }
apt=$(mktemp -d)
trap 'rm -rf "$apt"' EXIT
mkdir -p "$apt"/etc/apt/{apt.conf.d,preferences.d,sources.list.d} "$apt"/var/lib/apt/lists/partial \
  "$apt"/var/cache/apt/archives/partial "$apt"/var/lib/dpkg "$apt"/debs
touch "$apt"/var/lib/dpkg/status
cat > "$apt"/etc/apt/sources.list <<SOURCES
deb [signed-by=$keyring] http://deb.debian.org/debian trixie main
deb [signed-by=$keyring] http://deb.debian.org/debian-security trixie-security main
SOURCES
opts=(-o "Dir=$apt" -o "Dir::State::status=$apt/var/lib/dpkg/status" -o "Dir::Etc=$apt/etc/apt"
      -o Debug::NoLocking=1 -o APT::Architecture=amd64 -o APT::Sandbox::User=root -q)
apt-get "${opts[@]}" update >/dev/null
candidate=$(apt-cache "${opts[@]}" policy pgbouncer | awk '/Candidate:/ { print $2 }')
case $candidate in
  "$version"-*) ;;
  *) echo "fetch-pgbouncer: trixie offers pgbouncer $candidate, not $version: pin the image and PGBOUNCER_VERSION together" >&2; exit 1 ;;
esac
# pgbouncer and what it links (ldd of the trixie binary), with their own needs.
packages=(pgbouncer libc6 libcares2 libevent-2.1-7t64 libpam0g libssl3t64 libsystemd0 libcap2 libaudit1
          libcap-ng0 zlib1g libzstd1)
(cd "$apt"/debs && apt-get "${opts[@]}" download "${packages[@]}" >/dev/null)
rm -rf "$root.new" && mkdir -p "$root.new"
for deb in "$apt"/debs/*.deb; do dpkg-deb -x "$deb" "$root.new"; done
rm -rf "$root" && mv "$root.new" "$root"
# Every library resolves inside the folder: nothing of the host's older ones.
if "$loader" --list --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/sbin/pgbouncer" | grep -v -e "$root" -e linux-vdso | grep -q .; then
  echo "fetch-pgbouncer: a library of pgbouncer resolves outside $root" >&2; exit 1
fi
run --version | head -1
