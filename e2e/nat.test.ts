/**
 * The NAT engine end to end with real kernels on both sides (issue #3): R's programs reach S
 * through R's TUN, a Unix-socket link and the NAT engine in L. See e2e/nat/topology.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { netnsSkipReason } from "./netns/index.js";
import { oneShot } from "./netns/child-rpc.js";
import type { EchoClientCommands } from "./nat/echo-clients.js";
import { deterministicBytes, downloadSha256, sha256 } from "./nat/content.js";
import { buildNatTopology, type NatTopology } from "./nat/topology.js";
import { LAN } from "./netns/address-plan.js";

const ECHO_CLIENTS = oneShot<EchoClientCommands>("e2e/nat/echo-clients.ts");

const skip = netnsSkipReason({ tun: true, tools: ["ip", "curl", "ping", "iperf3", "nc", "hping3"] });
const MB = 1_000_000;

function url(host: string, path: string): string {
  return host.includes(":") ? `http://[${host}]${path}` : `http://${host}${path}`;
}

async function uploadCheck(topo: NatTopology, host: string, bytes: number): Promise<void> {
  const file = `/tmp/backhaul-upload-${process.pid}-${bytes}`;
  const script = [
    `head -c ${bytes} /dev/urandom > ${file}`,
    `sha256sum ${file} | cut -d' ' -f1`,
    `curl -sS --fail -m 120 -X POST -H 'Content-Type: application/octet-stream' --data-binary @${file} '${url(host, "/upload")}'`,
    `rm -f ${file}`,
  ].join(" && ");
  const result = await topo.remote.runChecked("bash", ["-c", script], { timeoutMs: 130_000 });
  const [local, reply] = result.stdout.trim().split("\n");
  const answer = JSON.parse(reply ?? "{}") as { sha256?: string; length?: number };
  assert.equal(answer.length, bytes, "bytes received by S");
  assert.equal(answer.sha256, local, "sha256 at S matches what R sent");
}

interface IperfSum {
  bytes: number;
  bits_per_second: number;
  lost_percent?: number;
}

/** What arrived at the receiving end, never the sender's own count (UDP sends into the void). */
interface Delivered {
  bytes: number;
  bitsPerSecond: number;
  /** UDP only: datagrams the receiver never saw, in percent. */
  lostPercent: number | undefined;
}

/** How often a client may find the iperf3 server still tidying up the previous test. */
const IPERF_BUSY_RETRIES = 10;

interface IperfReport {
  end: { sum_received?: IperfSum };
  server_output_json?: { end: { sum?: IperfSum; sum_received?: IperfSum } };
  error?: string;
}

async function iperf(topo: NatTopology, host: string, extra: string[]): Promise<Delivered> {
  const args = ["-c", host, "-t", "2", "-J", "--get-server-output", ...extra];
  let { stdout } = await topo.remote.runChecked("iperf3", args, { timeoutMs: 30_000 });
  let report = JSON.parse(stdout) as IperfReport;
  // iperf3's server runs one test at a time and ends the last one a moment after its client has
  // gone: a client started at once can be turned away. Said, and tried again, a few times.
  for (let retry = 1; report.error?.includes("server is busy") && retry <= IPERF_BUSY_RETRIES; retry++) {
    console.log(`iperf3 ${args.join(" ")}: ${report.error}; trying again in 300 ms`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    ({ stdout } = await topo.remote.runChecked("iperf3", args, { timeoutMs: 30_000 }));
    report = JSON.parse(stdout) as IperfReport;
  }
  // iperf3 3.12 reports the receiver's totals in end.sum_received for TCP and UDP alike; older
  // versions only in the server's own report (for UDP, its end.sum).
  const udp = extra.includes("-u");
  const received =
    report.end.sum_received ??
    (udp ? report.server_output_json?.end.sum : report.server_output_json?.end.sum_received);
  assert.ok(received, `iperf3 reported no receiver totals: ${stdout.slice(0, 2_000)}`);
  return {
    bytes: received.bytes,
    bitsPerSecond: received.bits_per_second,
    lostPercent: received.lost_percent,
  };
}

/** UDP through the TUN and the link may lose some datagrams under load; most must arrive. */
const UDP_MAX_LOSS_PERCENT = 20;

async function echoClients(topo: NatTopology, host: string, count: number, bytes: number): Promise<void> {
  const result = await ECHO_CLIENTS.call(topo.remote, "run", { host, port: 7, count, bytes }, 120_000);
  assert.deepEqual(result, { ok: count, failed: 0, errors: [] });
}

/**
 * A connection that must fail: curl's exit code says how (7: refused or unreachable, an answer
 * came back; 28: its own timeout, silence) and its own clock how long the attempt took, without
 * the cost of starting a process in a namespace on a loaded machine.
 */
async function failedConnect(
  topo: NatTopology,
  target: string,
  maxSeconds: number,
): Promise<{ code: number | null; stderr: string; seconds: number }> {
  const result = await topo.remote.run(
    "curl",
    ["-sS", "-o", "/dev/null", "-w", "%{time_total}", "-m", String(maxSeconds), target],
    { timeoutMs: (maxSeconds + 5) * 1000 },
  );
  return { code: result.code, stderr: result.stderr, seconds: Number(result.stdout) };
}

/** curl: "Failed to connect": an RST or an ICMP error came back. */
const CURL_COULDNT_CONNECT = 7;

const expected = new Map<number, string>();
function expectedSha(bytes: number): string {
  let hash = expected.get(bytes);
  if (!hash) {
    hash = sha256(deterministicBytes(bytes));
    expected.set(bytes, hash);
  }
  return hash;
}

for (const mtu of [65520, 1280]) {
  describe(`NAT engine at link MTU ${mtu}`, { skip, timeout: 600_000 }, () => {
    let topo: NatTopology;
    const size = mtu > 1500 ? 100 * MB : 20 * MB;
    before(async () => {
      topo = await buildNatTopology({ mtu });
    });
    after(() => topo?.cleanup());

    test(`curl downloads ${size / MB} MB over IPv4 and IPv6 with matching sha256`, async () => {
      assert.equal(await downloadSha256(topo.remote, LAN.server.v4, size), expectedSha(size));
      assert.equal(await downloadSha256(topo.remote, LAN.server.v6, size), expectedSha(size));
    });

    test(`curl uploads ${size / MB} MB over IPv4 and IPv6 intact`, async () => {
      await uploadCheck(topo, LAN.server.v4, size);
      await uploadCheck(topo, LAN.server.v6, size);
    });

    test("iperf3 TCP both ways and UDP arrive at the receiver", async (t) => {
      for (const host of [LAN.server.v4, LAN.server.v6]) {
        assert.ok((await iperf(topo, host, [])).bytes > 0, `TCP R->S via ${host}: nothing received`);
        assert.ok((await iperf(topo, host, ["-R"])).bytes > 0, `TCP S->R via ${host}: nothing received`);
        const udp = await iperf(topo, host, ["-u", "-b", "50M", "-l", "1200"]);
        t.diagnostic(`UDP via ${host}: ${udp.bytes} bytes received, ${udp.lostPercent}% lost`);
        assert.ok(udp.bytes > 0, `UDP via ${host}: nothing received`);
        assert.ok(
          udp.lostPercent !== undefined && udp.lostPercent <= UDP_MAX_LOSS_PERCENT,
          `UDP via ${host}: ${udp.lostPercent}% lost (at most ${UDP_MAX_LOSS_PERCENT}%)`,
        );
      }
    });

    test("ping and ping -6 get replies", async () => {
      for (const host of [LAN.server.v4, LAN.server.v6]) {
        const result = await topo.remote.run("ping", ["-c", "3", "-i", "0.2", "-W", "2", host], {
          timeoutMs: 15_000,
        });
        assert.match(result.stdout, / 3 received/, `${host}: ${result.stdout}${result.stderr}`);
      }
    });

    test("UDP datagrams are answered", async () => {
      for (const host of [LAN.server.v4, LAN.server.v6]) {
        const result = await topo.remote.run("bash", ["-c", `echo backhaul-udp | nc -u -w 2 ${host} 7`], {
          timeoutMs: 10_000,
        });
        assert.equal(result.stdout.trim(), "backhaul-udp", `${host}: ${result.stderr}`);
      }
    });

    test("a closed port is refused at once", async () => {
      for (const host of [LAN.server.v4, LAN.server.v6]) {
        const result = await failedConnect(topo, url(host, ":81/"), 10);
        assert.equal(result.code, CURL_COULDNT_CONNECT, `${host}: ${result.stderr}`);
        assert.match(result.stderr, /Connection refused|Couldn't connect/, `${host}: ${result.stderr}`);
        assert.ok(result.seconds < 3, `${host}: refused after ${result.seconds} s (curl gives up at 10)`);
      }
    });

    test("an address with no route fails fast", async () => {
      for (const host of ["198.19.200.1", "2001:db8:19:99::1"]) {
        const result = await failedConnect(topo, url(host, "/"), 20);
        assert.equal(result.code, CURL_COULDNT_CONNECT, `${host}: ${result.stderr}`);
        assert.match(
          result.stderr,
          /No route to host|Network is unreachable|Couldn't connect/,
          `${host}: ${result.stderr}`,
        );
        assert.ok(result.seconds < 5, `${host}: failed after ${result.seconds} s (curl gives up at 20)`);
      }
    });

    test("concurrent connections each echo their bytes, through a half-close", async () => {
      await echoClients(topo, LAN.server.v4, mtu > 1500 ? 1000 : 200, 20_000);
      await echoClients(topo, LAN.server.v6, 100, 200_000);
    });
  });
}

describe("egress policy", { skip, timeout: 120_000 }, () => {
  test("this computer's own address is refused unless the user allows it", async (t) => {
    const strict = await buildNatTopology({ mtu: 65520, servicesInLocal: true });
    t.after(() => strict.cleanup());
    const refused = await failedConnect(strict, url(LAN.local.v4, "/"), 10);
    assert.equal(refused.code, CURL_COULDNT_CONNECT, `L's own address must be refused: ${refused.stderr}`);
    assert.match(refused.stderr, /No route to host|Couldn't connect/);
    assert.ok(refused.seconds < 3, `refused after ${refused.seconds} s (curl gives up at 10)`);
    await strict.cleanup();

    const open = await buildNatTopology({ mtu: 65520, servicesInLocal: true, allowLocal: true });
    t.after(() => open.cleanup());
    const allowed = await open.remote.runChecked("curl", ["-sS", "-m", "10", url(LAN.local.v4, "/")], {
      timeoutMs: 15_000,
    });
    assert.equal(allowed.stdout, "hello from S\n");
  });
});

describe("floods", { skip, timeout: 300_000 }, () => {
  const RSS_BOUND = 512 * 1024 * 1024;

  test(`100,000 SYNs and a 10-second UDP flood keep the helper under ${RSS_BOUND / 2 ** 20} MiB and a transfer completes`, async (t) => {
    const topo = await buildNatTopology({ mtu: 65520 });
    t.after(() => topo.cleanup());
    const reportsBefore = topo.reports.length;
    const transfer = downloadSha256(topo.remote, LAN.server.v4, 100 * MB);
    const syn = topo.remote.run(
      "hping3",
      ["-q", "-S", "-p", "7", "-i", "u20", "-c", "100000", LAN.server.v4],
      {
        timeoutMs: 120_000,
      },
    );
    const udp = topo.remote.run(
      "timeout",
      ["10", "hping3", "-q", "--udp", "-p", "9", "-i", "u50", LAN.server.v4],
      {
        timeoutMs: 30_000,
      },
    );
    const [synResult] = await Promise.all([syn, udp]);
    assert.match(synResult.stdout + synResult.stderr, /100000 packets transmitted/);
    assert.equal(await transfer, expectedSha(100 * MB), "the transfer during the flood arrived intact");
    // A transfer after the flood works too: nothing was left wedged.
    assert.equal(await downloadSha256(topo.remote, LAN.server.v4, 10 * MB), expectedSha(10 * MB));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // The exit reports once a second; a flood of 10 s or more without reports would be a bound
    // checked against nothing (Math.max() of nothing is -Infinity).
    const during = topo.reports.slice(reportsBefore);
    assert.ok(during.length >= 5, `the exit reported its RSS ${during.length} times during the flood`);
    const peak = Math.max(...during.map((r) => r.rss));
    t.diagnostic(
      `exit helper peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB; counters ${JSON.stringify(topo.latestReport()?.counters)}`,
    );
    assert.ok(peak < RSS_BOUND, `peak RSS ${peak} over the bound`);
  });
});
