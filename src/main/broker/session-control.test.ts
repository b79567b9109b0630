import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { DiagnoseRequest, DiagnoseResult } from "../../shared/api.js";
import { parseHostPort } from "../cli/diagnose.js";
import {
  askSession,
  runningSessions,
  sessionName,
  sessionsDir,
  startSessionControl,
  type SessionControlHandlers,
} from "./session-control.js";
import { SPLIT_REMOTE_DNS } from "../../shared/test-remote-dns.js";

const root = mkdtempSync(join(tmpdir(), "backhaul-session-control-"));
after(() => rmSync(root, { recursive: true, force: true }));

const asked: DiagnoseRequest[] = [];
const modes: string[] = [];
const allows: boolean[] = [];
const withoutDnsMode: SessionControlHandlers = {
  state: () => "connected",
  diagnose: () => Promise.reject(new Error("not asked")),
};

const handlers: SessionControlHandlers = {
  state: () => "connected",
  remoteDns: () => ({ ...SPLIT_REMOTE_DNS }),
  dnsMode: (mode) => {
    modes.push(mode);
    return Promise.resolve(`DNS ${mode}`);
  },
  allowLocal: (allow) => {
    allows.push(allow);
    return Promise.resolve({ message: `allow ${allow}`, endedFlows: allow ? 0 : 3 });
  },
  diagnose: (request) => {
    asked.push(request);
    return Promise.resolve({ host: request.host, verdict: "reachable", summary: "ok" } as DiagnoseResult);
  },
};

test("a session's socket and token file are the user's only; diagnose finds it, asks it, and a second one gets a number", async () => {
  const dir = join(root, "sessions");
  const first = await startSessionControl("ssh://me@devbox", handlers, dir);
  const second = await startSessionControl("ssh://me@devbox", withoutDnsMode, dir);
  try {
    assert.equal(first.name, "me_devbox");
    assert.equal(second.name, "me_devbox-2");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(first.socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "me_devbox.json")).mode & 0o777, 0o600);

    const sessions = await runningSessions(dir);
    assert.deepEqual(
      sessions.map((s) => s.name),
      ["me_devbox", "me_devbox-2"],
    );
    const info = await askSession(sessions[0]!, { type: "info" }, 5_000);
    assert.equal(info.type === "info" && info.state, "connected");
    // What the agent reported of the remote's resolver; a session that knows none says null.
    assert.deepEqual(info.type === "info" && info.remoteDns, SPLIT_REMOTE_DNS);
    const other = await askSession(sessions[1]!, { type: "info" }, 5_000);
    assert.equal(other.type === "info" && other.remoteDns, null);
    const reply = await askSession(
      sessions[0]!,
      { type: "diagnose", host: "db.corp.test", port: 5432 },
      5_000,
    );
    assert.equal(reply.type === "result" && reply.result.summary, "ok");
    assert.deepEqual(asked.at(-1), { host: "db.corp.test", port: 5432 });

    // A DNS mode: checked, then given to the session; a session without the handler says who owns it.
    assert.deepEqual(await askSession(sessions[0]!, { type: "dnsMode", mode: "off" }, 5_000), {
      type: "done",
      message: "DNS off",
    });
    assert.deepEqual(modes, ["off"]);
    const badMode = await askSession(sessions[0]!, { type: "dnsMode", mode: "none" as "off" }, 5_000);
    assert.deepEqual(badMode, { type: "error", message: 'mode must be "all", "split" or "off"' });
    assert.deepEqual(modes, ["off"]);
    const windowOwned = await askSession(sessions[1]!, { type: "dnsMode", mode: "all" }, 5_000);
    assert.match(windowOwned.type === "error" ? windowOwned.message : "", /window's Settings/);

    // Access to this computer: a boolean, nothing else; a window's session says who owns it.
    assert.deepEqual(await askSession(sessions[0]!, { type: "allowLocal", allow: false }, 5_000), {
      type: "done",
      message: "allow false",
      endedFlows: 3,
    });
    for (const bad of ["false", 0, null, undefined]) {
      const refused = await askSession(
        sessions[0]!,
        { type: "allowLocal", allow: bad as unknown as boolean },
        5_000,
      );
      assert.deepEqual(refused, { type: "error", message: "allow must be true or false" }, String(bad));
    }
    assert.deepEqual(allows, [false], "only the valid request reached the session");
    const windowAccess = await askSession(sessions[1]!, { type: "allowLocal", allow: true }, 5_000);
    assert.match(
      windowAccess.type === "error" ? windowAccess.message : "",
      /access to this computer from the window's Settings/,
    );

    // The token is what lets a client ask: without it, nothing is answered.
    const wrong = await askSession({ ...sessions[0]!, token: "0".repeat(64) }, { type: "info" }, 5_000);
    assert.deepEqual(wrong, { type: "error", message: "wrong token" });
    // The host is checked before it reaches the checks.
    const bad = await askSession(sessions[0]!, { type: "diagnose", host: "$(reboot)", port: 1 }, 5_000);
    assert.equal(bad.type, "error");
    assert.equal(asked.length, 1);
    // Garbage on the socket is answered and dropped.
    const garbage = await new Promise<string>((resolve) => {
      const socket = connect(first.socketPath);
      let data = "";
      socket.on("data", (chunk) => (data += chunk.toString()));
      socket.on("end", () => resolve(data));
      socket.end("\u0000\u0001not json\n");
    });
    assert.match(garbage, /bad request/);
  } finally {
    first.close();
    second.close();
  }
  assert.equal(existsSync(first.socketPath), false);
  assert.deepEqual(await runningSessions(dir), []);
});

test("a directory open to others, or a symlink, is refused", async () => {
  const open = join(root, "open");
  mkdirSync(open, { mode: 0o755 });
  chmodSync(open, 0o755);
  await assert.rejects(startSessionControl("devbox", handlers, open), /open to other users/);
  await assert.rejects(runningSessions(open), /open to other users/);
  const link = join(root, "link");
  symlinkSync(join(root, "sessions"), link);
  await assert.rejects(startSessionControl("devbox", handlers, link), /not a directory/);
});

test("names, directories and HOST[:PORT]", () => {
  assert.equal(sessionName("exec:kubectl exec -i devpod -- sh"), "kubectl_exec_-i_devpod_--_sh");
  assert.equal(sessionName("codespace:../../x"), "x");
  assert.equal(sessionName("This computer (sandbox)"), "This_computer_sandbox");
  assert.equal(sessionsDir({ XDG_RUNTIME_DIR: "/run/user/1000" }, 1000), "/run/user/1000/backhaul-sessions");
  assert.equal(sessionsDir({ TMPDIR: "/tmp" }, 1000), "/tmp/backhaul-sessions-1000");
  assert.deepEqual(parseHostPort("db.corp.test:5432"), { host: "db.corp.test", port: 5432 });
  assert.deepEqual(parseHostPort("db.corp.test"), { host: "db.corp.test", port: 443 });
  assert.deepEqual(parseHostPort("[2001:db8::1]:22"), { host: "2001:db8::1", port: 22 });
  assert.deepEqual(parseHostPort("2001:db8::1"), { host: "2001:db8::1", port: 443 });
  assert.throws(() => parseHostPort("db:0"), /port/);
  assert.throws(() => parseHostPort("db:http"), /not a port/);
  assert.throws(() => parseHostPort("-oProxyCommand=x"), /neither/);
});
