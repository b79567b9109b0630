# The Backhaul native addon: Linux only (the remote agent's TUN device and split DNS relay, the local
# helper's ICMP sockets).
# macOS and Windows get no target here on purpose: their TUN seams (utun, Wintun) live behind the
# TypeScript TunDevice interface, and the local helper must run there without a native build.
# Build with scripts/build-native.mjs, which points node-gyp at local headers (never downloads).
{
  "conditions": [
    ["OS=='linux'", {
      "targets": [
        {
          "target_name": "backhaul_native",
          "sources": ["src/addon.c", "src/errors.c", "src/poll_object.c", "src/tun_linux.c", "src/icmp_linux.c", "src/lock_linux.c", "src/sockdiag_linux.c", "src/pipe_linux.c", "src/dns_relay_linux.c"],
          "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden", "-O2"],
          "cflags_c": ["-std=gnu11"]
        }
      ]
    }]
  ]
}
