#!/usr/bin/env bash
# Installs the Debian packages the privileged test suites use, only those missing, so that a
# second run costs a few dpkg queries. Runs only as root; never touches anything else.
set -euo pipefail

packages=(
  iproute2      # ip netns, veth, routes inside test namespaces
  iputils-ping  # ping and ping -6 from the remote namespace
  dnsutils      # dig
  netcat-openbsd
  curl
  iperf3        # throughput through the NAT engine
  hping3        # SYN and UDP floods from the remote namespace
  dnsmasq-base  # dnsmasq for the private zone (the binary only: no system service is started)
  chromium      # browser tests, driven by playwright-core (browsers cannot be downloaded here)
)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies: all ${#packages[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test dependencies: missing ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "test dependencies: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test dependencies: installed ${missing[*]}"
