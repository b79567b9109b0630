// npm run bench's proxy row: the flags, reading proxy.env and curl's -w output, and the table of
// curl through each entrance with its "proxy ÷ TUN" line.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CurlResult } from "./curl-transfers.js";
import { parseSizeAndSpeed, quantileMs } from "./curl-transfers.js";
import {
  computeEntranceRatio,
  computeEntranceRatios,
  computeEntranceVariantRatios,
  formatEntranceTable,
} from "./entrance-report.js";
import { parseOptions } from "./options.js";
import { socksUrlOf } from "./path-backhaul.js";
import { formatTable, type ResultRow } from "./report.js";
import { foldRounds, roundPlan } from "./variants.js";

const OUT = "/tmp/bench.json";

function curl(downMBps: number, upMBps: number, getMedianMs: number, cpu: number): CurlResult {
  return {
    bytes: 1_000,
    downMBps,
    upMBps,
    gets: 10,
    getMedianMs,
    getP90Ms: getMedianMs * 2,
    remoteCpuSPerGB: cpu,
    localCpuSPerGB: cpu * 2,
  };
}

describe("npm run bench: the proxy row", () => {
  it("measures proxy by default, after backhaul; --only latency leaves it out", () => {
    const options = parseOptions([], OUT);
    assert.deepEqual(options.rows, ["direct", "backhaul", "proxy", "sshuttle", "ssh -w", "raw"]);
    assert.equal(options.curlBytes, 256 * 2 ** 20);
    assert.equal(options.curlGets, 100);
    assert.deepEqual(parseOptions(["--only", "latency"], OUT).rows, [
      "direct",
      "backhaul",
      "sshuttle",
      "ssh -w",
    ]);
    assert.deepEqual(parseOptions(["--path", "proxy", "--curl-mb", "8"], OUT).rows, ["proxy"]);
    assert.equal(parseOptions(["--curl-mb", "8"], OUT).curlBytes, 8 * 2 ** 20);
    assert.throws(() => parseOptions(["--curl-gets", "0"], OUT), /--curl-gets must be an integer/);
  });

  it("takes ALL_PROXY's socks5h URL from proxy.env, and nothing from a file without it", () => {
    const env = [
      "# Written by backhaul for this session; removed when it disconnects.",
      "export ALL_PROXY='socks5h://bh-a1:pw_-x@127.0.0.1:40123'",
      "export all_proxy='socks5h://bh-a1:pw_-x@127.0.0.1:40123'",
      "export HTTP_PROXY='http://bh-a1:pw_-x@127.0.0.1:40123'",
    ].join("\n");
    assert.equal(socksUrlOf(env), "socks5h://bh-a1:pw_-x@127.0.0.1:40123");
    assert.equal(socksUrlOf("export HTTP_PROXY='http://u:p@127.0.0.1:1'\n"), undefined);
    assert.equal(socksUrlOf(""), undefined);
  });

  it("reads curl's size and speed, refusing a short transfer or a zero speed", () => {
    assert.equal(parseSizeAndSpeed("1000 2500000\n", 1000, "down"), 2.5);
    assert.equal(parseSizeAndSpeed("1000 1.5e6", 1000, "down"), 1.5);
    assert.throws(() => parseSizeAndSpeed("999 2500000", 1000, "down"), /down: curl moved 999 2500000/);
    assert.throws(() => parseSizeAndSpeed("1000 0", 1000, "up"), /expected 1000 bytes/);
    assert.throws(() => parseSizeAndSpeed("", 1000, "up"), /up/);
    assert.equal(quantileMs([0.003, 0.001, 0.002], 0.5), 2);
    assert.equal(quantileMs([0.003, 0.001, 0.002, 0.004], 0.9), 4);
  });

  it("divides the proxy's curl figures by the TUN's; none without both, or when one failed", () => {
    const rows: ResultRow[] = [
      { name: "backhaul", curl: curl(100, 80, 2, 4) },
      { name: "proxy", curl: curl(120, 40, 3, 2) },
    ];
    assert.deepEqual(computeEntranceRatio(rows), {
      down: 1.2,
      up: 0.5,
      getMs: 1.5,
      remoteCpu: 0.5,
      localCpu: 0.5,
    });
    assert.equal(computeEntranceRatio(rows.slice(0, 1)), undefined);
    assert.equal(
      computeEntranceRatio([rows[0]!, { name: "proxy", curl: curl(1, 1, 1, 1), error: "teardown failed" }]),
      undefined,
    );
    assert.equal(computeEntranceRatio([rows[0]!, { name: "proxy", curl: curl(0, 0, 0, 0) }])?.getMs, 0);
  });

  it("prints both entrances' rows and the ratio line; nothing when neither was measured", () => {
    const rows: ResultRow[] = [
      { name: "backhaul", curl: curl(100, 80, 2, 4) },
      { name: "proxy", curl: curl(120, 40, 3, 2) },
    ];
    const lines = formatEntranceTable(rows);
    const tun = lines.find((line) => line.startsWith("TUN (backhaul)"));
    const proxy = lines.find((line) => line.startsWith("proxy "));
    assert.match(tun ?? "", /100\.0\s+80\.0\s+2\.00\s+4\.00\s+4\.00\s+8\.00$/);
    assert.match(proxy ?? "", /120\.0\s+40\.0\s+3\.00\s+6\.00\s+2\.00\s+4\.00$/);
    const ratio = lines.find((line) => line.startsWith("proxy ÷ TUN:"));
    assert.match(ratio ?? "", /down 1\.20×\s+up 0\.50×\s+ms\/GET 1\.50×\s+CPU R 0\.50×\s+CPU L 0\.50×/);
    assert.deepEqual(formatEntranceTable([{ name: "direct" }]), []);
    const failed = formatEntranceTable([rows[0]!, { name: "proxy", error: "setup failed: x" }]);
    assert.ok(failed.some((line) => /^proxy\s+failed$/.test(line)));
    assert.ok(!failed.some((line) => line.startsWith("proxy ÷ TUN")));
  });

  it("puts the proxy row in the main table with its CPU only, and the curl table under it", () => {
    const table = formatTable(
      [
        { name: "backhaul", curl: curl(100, 80, 2, 4) },
        { name: "proxy", setup: "x", curl: curl(120, 40, 3, 2) },
      ],
      [],
    );
    const proxyRow = table.split("\n").find((line) => /^proxy\s+—/.test(line));
    assert.match(proxyRow ?? "", /—\s+2\.00\s+4\.00$/);
    assert.match(table, /curl through each entrance/);
    assert.match(table, /proxy ÷ TUN: +down 1\.20×/);
    assert.doesNotMatch(table, /\n\n\n/, "no ratios against peers: one blank line, not two");
  });

  it("folds the curl figures of several rounds into their medians", () => {
    const options = { rows: ["proxy" as const], variants: [] };
    const [row] = foldRounds(options, [
      [{ name: "proxy", curl: curl(10, 1, 1, 1) }],
      [{ name: "proxy", curl: curl(30, 3, 3, 3) }],
      [{ name: "proxy", curl: curl(20, 2, 2, 2) }],
    ]);
    assert.equal(row?.curl?.downMBps, 20);
    assert.equal(row?.curl?.getP90Ms, 4);
    assert.equal(row?.skipped, undefined);
  });
});

describe("npm run bench --variant: the proxy row follows the builds", () => {
  const builds = ["--variant", "before=/tmp/a/cli.mjs", "--variant", "after=/tmp/b/cli.mjs"];

  it("plans a proxy row per build, rotating with the TUN rows; --path proxy alone takes --variant", () => {
    const options = parseOptions(["--path", "backhaul,proxy", ...builds], OUT);
    const plan = (round: number): string[] =>
      roundPlan(options, round).map((row) => `${row.name} ${row.variant?.name ?? ""}`);
    assert.deepEqual(plan(0), ["backhaul before", "backhaul after", "proxy before", "proxy after"]);
    assert.deepEqual(plan(1), ["backhaul after", "backhaul before", "proxy after", "proxy before"]);
    assert.deepEqual(
      roundPlan(parseOptions(["--path", "proxy", ...builds], OUT), 0).map((row) => row.variant?.name),
      ["before", "after"],
    );
    assert.throws(() => parseOptions(["--path", "direct", ...builds], OUT), /needs backhaul or proxy/);
  });

  it("prints each build's rows, its own proxy ÷ TUN, and each entrance's later build ÷ the first", () => {
    const rows = foldRounds(parseOptions(["--path", "backhaul,proxy", ...builds], OUT), [
      [
        { name: "backhaul", variant: "before", curl: curl(100, 80, 2, 4) },
        { name: "backhaul", variant: "after", curl: curl(100, 100, 2, 4) },
        { name: "proxy", variant: "before", curl: curl(60, 80, 3, 4) },
        { name: "proxy", variant: "after", curl: curl(120, 100, 3, 2) },
      ],
    ]);
    assert.deepEqual(
      computeEntranceRatios(rows).map((ratio) => [ratio.variant, ratio.down, ratio.up]),
      [
        ["before", 0.6, 1],
        ["after", 1.2, 1],
      ],
    );
    assert.deepEqual(
      computeEntranceVariantRatios(rows).map((ratio) => [ratio.entrance, ratio.variant, ratio.down]),
      [
        ["backhaul", "after", 1],
        ["proxy", "after", 2],
      ],
    );
    const lines = formatEntranceTable(rows);
    assert.match(lines.find((line) => line.startsWith("proxy after ")) ?? "", /120\.0\s+100\.0/);
    assert.match(lines.find((line) => line.startsWith("TUN (backhaul) before")) ?? "", /100\.0\s+80\.0/);
    assert.match(lines.find((line) => line.startsWith("proxy ÷ TUN (before):")) ?? "", /down 0\.60×/);
    assert.match(lines.find((line) => line.startsWith("proxy ÷ TUN (after):")) ?? "", /down 1\.20×/);
    assert.match(lines.find((line) => line.startsWith("proxy after ÷ before:")) ?? "", /down 2\.00×/);
    assert.match(lines.find((line) => line.startsWith("TUN after ÷ before:")) ?? "", /up 1\.25×/);
  });
});
