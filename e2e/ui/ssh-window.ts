// R's test sshd for a window over SSH: what the UI suites that pick an SSH host set up the same way.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Browser } from "playwright-core";
import { SSH_LINK } from "../netns/address-plan.js";
import { NetnsLab, type ManagedProcess } from "../netns/index.js";
import { remoteState, startSshdWithPrivateNetwork } from "../sshd/private-lab.js";
import type { TestSshd } from "../sshd/server.js";

/** What a test started, stopped after it in this order: the browser, the UI, sshd. */
export interface StartedForWindow {
  sshd?: TestSshd;
  browser?: Browser | undefined;
  ui?: ManagedProcess | undefined;
}

/**
 * A lab with R's sshd and S behind L, and a temp home in L whose known_hosts has R's key and whose
 * ~/.ssh/config names R `alias`, as R's user `user`. After the test, what the caller put in
 * `started` is stopped (the UI by SIGTERM first, given `uiStopMs` to end its sessions), then the
 * lab and the home are removed. `before` is R as the agent will find it.
 */
export async function sshdForWindow(
  t: TestContext,
  homePrefix: string,
  options: { alias: string; user: "dev" | "passwordSudo"; uiStopMs: number },
) {
  const lab = new NetnsLab();
  const home = mkdtempSync(join(tmpdir(), homePrefix));
  const started: StartedForWindow = {};
  t.after(async () => {
    try {
      await started.browser?.close();
      await started.ui?.stop(options.uiStopMs);
      await started.sshd?.cleanup();
      await lab.cleanup();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
  const sshd = (started.sshd = await startSshdWithPrivateNetwork(lab, home));
  const knownHosts = join(home, "known_hosts");
  writeFileSync(knownHosts, `${(await sshd.knownHostsLines()).ed25519}\n`);
  const sshConfig = join(home, ".ssh");
  rmSync(sshConfig, { recursive: true, force: true });
  await sshd.local.runChecked("mkdir", ["-m", "0700", sshConfig]);
  writeFileSync(
    join(sshConfig, "config"),
    [
      `Host ${options.alias}`,
      `  HostName ${SSH_LINK.remote.v4}`,
      `  User ${sshd.users[options.user].name}`,
      `  IdentityFile ${sshd.keys.plain}`,
      `  UserKnownHostsFile ${knownHosts}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const before = await remoteState(sshd.remote);
  return { lab, home, started, sshd, remote: sshd.remote, local: sshd.local, before };
}
