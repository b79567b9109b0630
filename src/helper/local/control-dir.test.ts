// The elevated helper's socket setup, as root, with a control directory that belongs to another
// user (nobody, 65534) who swaps it for a symlink right after the helper checked it: the race a
// path-based check-then-use loses. Root must create, chown and delete nothing outside.
import assert from "node:assert/strict";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { openControlDir } from "./control-dir.js";
import { startHelperServer } from "./local-server.js";
import { assertHandedToUser, userControlDir } from "./test-elevated-socket.js";

const USER = 65534;
const OTHER = 1;
const TOKEN = "d".repeat(64);

const notRoot = process.getuid?.() === 0 ? undefined : "needs root (it plays root and another user)";
if (notRoot) console.log(`skipped: control-dir.test.ts: ${notRoot}`);

test(
  "elevated, the helper listens in a root-owned directory and never follows the user's swapped directory",
  { skip: notRoot },
  async () => {
    const work = mkdtempSync(join(tmpdir(), "bh-ctl-race-"));
    try {
      const run = join(work, "run"); // stands in for /run: root's, others may pass through
      const outside = join(work, "outside"); // where a swapped-in symlink points
      chmodSync(work, 0o755); // the users in this test pass through it, as through /run/user
      for (const dir of [run, outside]) mkdirSync(dir, { mode: 0o755 });
      writeFileSync(join(outside, "helper.sock"), "precious");
      const control = userControlDir(work, USER, TOKEN);

      const dir = openControlDir(control, USER, true);
      const token = dir.readToken();
      // The user's move, between root's check and root's use: the directory becomes a link.
      const moved = join(work, "control-moved");
      renameSync(control, moved);
      symlinkSync(outside, control);

      const logs: string[] = [];
      const server = await startHelperServer({
        socketPath: dir.entry("helper.sock"),
        token,
        ownerUid: USER,
        privateSocketBase: run,
        log: (line) => logs.push(line),
        onShutdown: () => logs.push("shutdown"),
      });
      let closed = false;
      try {
        assert.deepEqual(readdirSync(outside), ["helper.sock"], "nothing created outside");
        assert.ok(lstatSync(join(outside, "helper.sock")).isFile(), "the file outside was not replaced");
        assert.equal(
          readFileSync(join(outside, "helper.sock"), "utf8"),
          "precious",
          "nothing removed outside",
        );

        const link = join(moved, "helper.sock");
        const socket = await assertHandedToUser(link, USER, OTHER);
        assert.equal(dirname(dirname(socket)), run);

        await server.close();
        closed = true;
        assert.ok(!existsSync(link), "the link is removed from the user's directory");
        assert.ok(!existsSync(dirname(socket)), "root's directory is removed");
        assert.equal(
          readFileSync(join(outside, "helper.sock"), "utf8"),
          "precious",
          "nothing removed outside",
        );
        assert.ok(!logs.includes("shutdown"));
      } finally {
        if (!closed) await server.close();
        dir.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);

test(
  "a control directory that is a symlink, open to others, or someone else's is refused",
  { skip: notRoot },
  () => {
    const work = mkdtempSync(join(tmpdir(), "bh-ctl-check-"));
    try {
      const real = join(work, "real");
      mkdirSync(real, { mode: 0o700 });
      chownSync(real, USER, USER);
      symlinkSync(real, join(work, "link"));
      assert.throws(() => openControlDir(join(work, "link"), USER, true), /ELOOP|ENOTDIR/);
      assert.throws(() => openControlDir(real, OTHER, true), /belongs to uid 65534, not 1/);
      const open = join(work, "open");
      mkdirSync(open, { mode: 0o755 });
      chownSync(open, USER, USER);
      assert.throws(() => openControlDir(open, USER, true), /open to other users/);
      writeFileSync(join(real, "token"), "not a token", { mode: 0o600 });
      chownSync(join(real, "token"), USER, USER);
      const dir = openControlDir(real, USER, true);
      try {
        assert.throws(() => dir.readToken(), /does not hold a token/);
      } finally {
        dir.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
);
