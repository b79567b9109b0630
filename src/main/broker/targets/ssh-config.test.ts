import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, test } from "node:test";
import { TargetError } from "./errors.js";
import { SshConfig } from "./ssh-config.js";

// A recorded laptop config (fixtures/ssh-config/home/.ssh/config and what it includes) and a
// system-wide file (fixtures/ssh-config/etc/ssh), read as a user "dev" whose home is the fixture.
const FIXTURE = fileURLToPath(new URL("./fixtures/ssh-config/", import.meta.url));
const HOME = join(FIXTURE, "home");
const SSH_DIR = join(HOME, ".ssh");
const USER_CONFIG = join(SSH_DIR, "config");
const key = (name: string): string => join(SSH_DIR, name);

let config: SshConfig;

before(async () => {
  config = await SshConfig.load({
    home: HOME,
    localUser: "dev",
    localHostname: "laptop.example.test",
    systemConfigPath: join(FIXTURE, "etc", "ssh", "ssh_config"),
    env: { BACKHAUL_TEST_KEYS: "/keys" },
  });
});

describe("SshConfig.resolveHost on the recorded config", () => {
  test("a plain Host block, then Host * and the system file add what is still unset", () => {
    assert.deepEqual(config.resolveHost("bastion"), {
      kind: "ssh",
      label: "bastion",
      host: "bastion.corp.test",
      port: 2222,
      // The system file's "User not-ops" comes too late; its IdentityFile still adds up.
      user: "ops",
      identityFiles: [key("id_bastion"), key("id_ed25519"), key("id_site")],
      proxyJump: null,
      proxyCommand: null,
      hostKeyAlias: null,
      strictHostKeyChecking: "no",
      userKnownHostsFiles: [],
      source: "ssh-config",
    });
  });

  test("first obtained value wins: the earlier specific block's User beats the wildcard's", () => {
    const db = config.resolveHost("db.corp.test");
    assert.equal(db.user, "dba", "the trailing # comment is not part of the value");
    assert.equal(db.proxyJump, "bastion");
    assert.equal(db.proxyCommand, null, "ProxyJump came first, so the later ProxyCommand is ignored");
    // %r and %h in IdentityFile are the final user and HostName.
    assert.deepEqual(db.identityFiles, [key("id_dba"), key("id_dba@db.corp.test"), key("id_ed25519")]);
  });

  test("a negated pattern keeps a Host line from applying", () => {
    const bastion = config.resolveHost("bastion.corp.test");
    assert.equal(bastion.user, "fallback");
    assert.equal(bastion.proxyJump, null, "bastion.corp.test must not jump through itself");
  });

  test("'?' wildcard, HostName with %h, Key=value and Key = value, accept-new", () => {
    const lab = config.resolveHost("lab1");
    assert.equal(lab.host, "lab1.lab.test");
    assert.equal(lab.port, 2200);
    assert.equal(lab.user, "labber", "from config.d/10-lab.conf, included before this block");
    assert.equal(lab.strictHostKeyChecking, "accept-new");
    assert.deepEqual(lab.identityFiles, [key("id_lab1"), key("id_ed25519")], "Match originalhost lab1");
    assert.equal(config.resolveHost("lab12").host, "lab12", "'?' is exactly one character");
  });

  test("tabs, an upper-case keyword, a quoted path with spaces, several known_hosts files", () => {
    const web = config.resolveHost("www");
    assert.equal(web.host, "198.18.0.80");
    assert.deepEqual(web.identityFiles, [key("key with spaces"), key("id_ed25519")]);
    assert.deepEqual(web.userKnownHostsFiles, [key("known_hosts.web"), "/dev/null"]);
    assert.equal(web.hostKeyAlias, "web-key");
    assert.equal(web.label, "www");
  });

  test("ProxyCommand is the rest of the line verbatim, %n expanded, %h %p left for use", () => {
    const proxied = config.resolveHost("proxied");
    assert.equal(
      proxied.proxyCommand,
      "/usr/bin/nc -X connect -x proxy.test:3128 %h %p # proxied, as the shell sees it",
    );
    assert.equal(proxied.proxyJump, null, "ProxyCommand came first");
    assert.equal(proxied.user, "matched-by-hostname", "Match host sees the HostName, 198.18.1.5");
  });

  test("ProxyJump none disables both ProxyJump and a later ProxyCommand", () => {
    const nojump = config.resolveHost("nojump");
    assert.equal(nojump.proxyJump, null);
    assert.equal(nojump.proxyCommand, null);
  });

  test("an Include inside a Host block: its top lines and Match all apply only there", () => {
    const db = config.resolveHost("work-db");
    assert.equal(db.host, "198.18.3.3");
    assert.equal(db.user, "worker");
    assert.equal(db.hostKeyAlias, "included-by-work");
    const web = config.resolveHost("work-web");
    assert.equal(web.host, "work-web");
    assert.equal(web.hostKeyAlias, "included-by-work");
    // The included file ended in an inactive "Host work-db" block; the line after the Include is
    // back in "Host work-*" and applies.
    assert.equal(web.port, 2023);
    const elsewhere = config.resolveHost("elsewhere");
    assert.equal(
      elsewhere.hostKeyAlias,
      null,
      "Match all in a file included from an inactive block never applies",
    );
    assert.equal(elsewhere.user, "fallback");
    assert.equal(elsewhere.port, 22);
  });

  test("included files are read in lexical order; CRLF line ends are fine", () => {
    assert.equal(config.resolveHost("ordered").user, "from-10");
    const crlf = config.resolveHost("crlf");
    assert.equal(crlf.host, "198.18.2.20");
    assert.equal(crlf.user, "crlf-user");
  });

  test("tokens and ${VAR} in IdentityFile; ones we cannot expand are dropped with a warning", () => {
    assert.deepEqual(config.resolveHost("tokens").identityFiles, [
      key("id_dev_tok_tokens.test_2022_tokens"),
      "/keys/shared",
      key("id_ed25519"),
    ]);
    assert.ok(config.warnings.some((warning) => /line 68: IdentityFile uses %C/.test(warning)));
    assert.ok(
      config.warnings.some((warning) => /line 69: IdentityFile uses \$\{BACKHAUL_UNSET\}/.test(warning)),
    );
  });

  test("the system file fills in what the user's leaves unset, but the user's Host * came first", () => {
    const sys = config.resolveHost("sys-only");
    assert.equal(sys.host, "198.18.4.4");
    assert.equal(sys.user, "fallback");
  });

  test("values given with the target win over the config's", () => {
    const target = config.resolveHost("bastion", {
      user: "me",
      port: 22,
      label: "ssh://me@bastion:22",
      source: "url",
    });
    assert.equal(target.user, "me");
    assert.equal(target.port, 22);
    assert.equal(target.host, "bastion.corp.test");
    assert.equal(target.label, "ssh://me@bastion:22");
    assert.equal(target.source, "url");
  });

  test("Match criteria we do not evaluate skip their block and say so", () => {
    assert.equal(config.resolveHost("bastion").port, 2222, "Match user root's Port 9999 is not used");
    assert.ok(
      config.warnings.some((w) =>
        w.startsWith(`${USER_CONFIG} line 53: Backhaul does not evaluate "Match user root"`),
      ),
    );
    assert.ok(config.warnings.some((w) => w.includes(`"Match exec test -f /nonexistent"`)));
  });

  test("a Port ssh would refuse is an error naming the line", () => {
    assert.throws(
      () => config.resolveHost("badport"),
      (error: unknown) =>
        error instanceof TargetError &&
        error.code === "ssh-config" &&
        error.message.includes(`${USER_CONFIG} line 60: Port "70000"`),
    );
  });
});

describe("SshConfig.listHosts", () => {
  test("concrete aliases of every file in order; wildcards, negations, hidden and non-.conf files left out", () => {
    const hosts = config.listHosts();
    assert.deepEqual(
      hosts.map((host) => host.label),
      [
        "ordered",
        "lab1",
        "lab2",
        "gpu",
        "crlf",
        "bastion",
        "db.corp.test",
        "web",
        "www",
        "proxied",
        "nojump",
        "work-db",
        "tokens",
        "sys-only",
      ],
    );
    assert.ok(hosts.every((host) => host.source === "ssh-config"));
    assert.ok(config.warnings.some((warning) => warning.startsWith("badport: ")));
  });
});

describe("SshConfig edge cases", () => {
  test("missing files are an empty config, as for ssh", async () => {
    const empty = await SshConfig.load({
      home: "/nonexistent-home",
      localUser: "dev",
      systemConfigPath: null,
    });
    assert.deepEqual(empty.listHosts(), []);
    assert.equal(empty.resolveHost("example.test").host, "example.test");
    assert.deepEqual(empty.warnings, []);
  });

  test("a file that includes itself stops at ssh's depth limit with a warning", async () => {
    const dir = await mkdtemp(join(tmpdir(), "backhaul-ssh-config-"));
    try {
      await writeFile(join(dir, "config"), `Include ${join(dir, "config")}\nHost loop\n  User looped\n`);
      const looped = await SshConfig.load({
        userConfigPath: join(dir, "config"),
        systemConfigPath: null,
        home: dir,
      });
      assert.equal(looped.resolveHost("loop").user, "looped");
      assert.ok(looped.warnings.some((warning) => warning.includes("Include nests more than 16 deep")));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("GlobalKnownHostsFile is read with ~ expanded; absent, ssh's defaults apply", () => {
    const text = "Host a\n  GlobalKnownHostsFile ~/site_hosts /etc/ssh/extra_hosts\nHost b\n  User x\n";
    const parsed = SshConfig.fromText(text, "test", { home: "/h", localUser: "dev" });
    assert.deepEqual(parsed.resolveHost("a").globalKnownHostsFiles, [
      "/h/site_hosts",
      "/etc/ssh/extra_hosts",
    ]);
    assert.equal(parsed.resolveHost("b").globalKnownHostsFiles, undefined);
  });

  test("lines ssh would refuse are skipped with a warning, not thrown", () => {
    const text = 'Host a\n  User\n  IdentityFile "unterminated\n  Port 2200\n';
    const parsed = SshConfig.fromText(text, "test", { home: "/h", localUser: "dev" });
    assert.equal(parsed.resolveHost("a").port, 2200);
    assert.deepEqual(parsed.warnings, [
      "test line 2: User has no value; ssh refuses this file",
      "test line 3: a quote is not closed; ssh refuses this file",
    ]);
  });
});
