#!/usr/bin/env bash
# Installs what dcmtls-profiles needs to build and test, from Debian 12's
# packages only. Does nothing when everything is already there.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config libssl-dev libdcmtk-dev libgnutls28-dev
  # test tools and real peers (interop tests, label interop: OpenSSL, stock
  # DCMTK, GnuTLS, Orthanc over REST with curl, sslscan, nmap ssl-enum-ciphers)
  openssl dcmtk gnutls-bin sslscan iproute2 procps
  orthanc curl nmap
  # scale-out test: two dtp-storescp nodes behind a TCP load balancer
  haproxy
  # service tests: fsync order (strace), systemd units (systemd-analyze,
  # systemd-socket-activate)
  strace systemd
  # dtp-check's JSON in tests and the benchmark, and its schema check
  jq python3 python3-jsonschema
  # audit messages: a syslog audit repository over TLS (RFC 5425) and UDP,
  # and the PS3.15 A.5.1 schema check (xmllint --relaxng)
  rsyslog rsyslog-gnutls libxml2-utils
  # memory checks: valgrind (label valgrind), clang + libFuzzer (label fuzz)
  valgrind clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
