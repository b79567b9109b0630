#!/usr/bin/env bash
# Installs the Debian packages the privileged test suites use, only those missing, so that a
# second run costs a few dpkg queries. Runs only as root; never touches anything else.
set -euo pipefail

packages=(
  iproute2      # ip netns, veth, routes inside test namespaces
  procps        # sysctl inside test namespaces (ping_group_range, IPv6 DAD, forwarding)
  iputils-ping  # ping and ping -6 from the remote namespace
  dnsutils      # dig
  netcat-openbsd
  curl
  iperf3        # throughput through the NAT engine
  tcpdump       # npm run bench:latency -- --hops: where a GET's time goes, hop by hop
  hping3        # SYN and UDP floods from the remote namespace
  dnsmasq-base  # dnsmasq for the private zone (the binary only: no system service is started)
  dbus-daemon   # a D-Bus system bus for systemd-resolved in the remote namespace (started by the test only)
  libsystemd-shared  # the library systemd-resolved links; resolved itself is fetched, never installed
  openssh-server  # a real sshd in the remote namespace (started by the tests, never as a service)
  openssh-client  # ssh-keygen and ssh-agent for the SSH tests
  sudo          # the remote user's passwordless sudo for the agent
  util-linux    # unshare (the test sshd's private mount namespace), setpriv, nsenter
  bash          # the shell of test commands (bash -o pipefail)
  coreutils     # timeout, env, mkdir, cat in test commands
  libc-bin      # getent, getconf
  chromium      # browser tests, driven by playwright-core (browsers cannot be downloaded here)
  tshark        # reads back the pcapng files that packet capture writes
  qemu-user               # runs the arm64 Node.js runtime and agent (arm64 remotes, emulated)
  gcc-aarch64-linux-gnu   # cross-builds the agent's arm64 addon (npm run build does, when present)
  libc6-dev-arm64-cross   # the arm64 C library: the addon links against it, qemu runs with it
  libstdc++6-arm64-cross  # the arm64 Node.js runtime needs libstdc++
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
# Packages such as openssh-server would start their service on this machine; the tests start
# their own copies inside namespaces. A policy-rc.d that refuses service starts (the standard
# Debian mechanism) stops that, and is removed again if we put it there.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# wireshark-common asks whether non-root users may capture (a setuid dumpcap): answer no before
# it asks, so the install never waits on a prompt and adds no setuid binary to this machine.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "test dependencies: installed ${missing[*]}"
