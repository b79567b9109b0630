/**
 * Issue 16's bar for flow names, end to end: `backhaul connect --json` in L over OpenSSH to R, S's
 * dnsmasq serving vault.corp.test (a CNAME to host.corp.test). `curl http://vault.corp.test/` in R
 * resolves through the tunnel's DNS stub, and the NAT rows of its connection carry the name the
 * remote asked for, not the CNAME's target, in the CLI's JSON.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, test } from "node:test";
import { CLI, connectInHome, LINK_SUBNET_OPTIONS } from "./cli/command.js";
import { Cli } from "./cli/json-cli.js";
import { VAULT, ZONE } from "./dns/zone.js";
import { CORP_NET, SSH_LINK } from "./netns/address-plan.js";
import { netnsSkipReason } from "./netns/preconditions.js";
import { sshdSkipReason } from "./sshd/preconditions.js";
import { sshdForSuite } from "./sshd/private-lab.js";

const skip =
  netnsSkipReason({ tun: true, tools: ["ip", "curl", "dnsmasq"] }) ??
  sshdSkipReason() ??
  (existsSync(CLI) ? undefined : "dist/ is not built: run `npm run build` first");

/** A flow event of `--json`: the NAT row's fields after `type`. */
interface FlowEvent {
  type: "flow";
  id: number;
  protocol: string;
  destination: string;
  name: string | null;
}

function isFlowEvent(value: object): value is FlowEvent {
  return "type" in value && value.type === "flow" && "destination" in value && "name" in value;
}

describe("flow names over OpenSSH", { skip, timeout: 300_000 }, () => {
  const suite = sshdForSuite("backhaul-flow-names-");

  test("the NAT rows of `curl http://vault.corp.test/` in R carry vault.corp.test in --json", async () => {
    const cli = new Cli(
      suite.local.spawn(
        "env",
        connectInHome(suite.home, `ssh://bhdev@${SSH_LINK.remote.v4}`, suite.sshd.keys.plain, [
          ...LINK_SUBNET_OPTIONS,
          "--route",
          "198.19.0.0/16",
          "--route",
          "2001:db8:19::/48",
          "--json",
          "--accept-new-host-key",
        ]),
      ),
    );
    try {
      await cli.until("connected", 90_000);
      const curl = await suite.remote.run(
        "curl",
        ["-sS", "-m", "20", "-o", "/dev/null", "-w", "%{http_code} %{remote_ip}", `http://${VAULT}/`],
        { timeoutMs: 30_000 },
      );
      assert.equal(curl.code, 0, curl.stderr);
      const [status, address] = curl.stdout.trim().split(" ");
      assert.equal(status, "200");
      assert.ok(
        address === CORP_NET.host.v4 || address === CORP_NET.host.v6,
        `curl reached host.${ZONE}'s address through the CNAME: ${address}`,
      );
      const port80 = new RegExp(`^\\[?${(address ?? "").replaceAll(".", "\\.")}\\]?:80$`);
      const flows = (): FlowEvent[] => cli.events.filter(isFlowEvent);
      const deadline = Date.now() + 15_000;
      while (!flows().some((row) => port80.test(row.destination)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const rows = flows().filter((row) => row.protocol === "tcp" && port80.test(row.destination));
      assert.ok(rows.length > 0, `a flow row to ${address}:80; events:\n${cli.describe()}`);
      for (const row of rows) assert.equal(row.name, VAULT, JSON.stringify(row));
      const raw = cli.events.find((event) => isFlowEvent(event) && port80.test(event.destination));
      assert.match(JSON.stringify(raw), /"name":"vault\.corp\.test"/);
    } finally {
      await cli.process.stop(15_000);
    }
  });
});
