// Test support for the helper run as root for another user (the unit test of the control
// directory and the e2e test of the built helper): the user's control directory as main prepares
// it, and what that user and a third one get when they knock on the socket root hands over.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chownSync, lstatSync, mkdirSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { encodeLine } from "../../shared/helper-protocol.js";

/** `parent`/control, owned by `uid` and closed to others, holding `token` in a 0600 file of theirs. */
export function userControlDir(parent: string, uid: number, token: string): string {
  const control = join(parent, "control");
  mkdirSync(control, { mode: 0o700 });
  chownSync(control, uid, uid);
  writeFileSync(join(control, "token"), `${token}\n`, { mode: 0o600 });
  chownSync(join(control, "token"), uid, uid);
  return control;
}

/**
 * Connects to `path` as `uid` (a child process with that uid and gid) and says a shutdown hello
 * with `token`; resolves with the reply line, "" on a silent close, or the connect error's code.
 */
export function helloAs(uid: number, path: string, token: string): Promise<string> {
  const script = `
    const socket = require("node:net").connect(process.argv[1]);
    socket.on("connect", () => socket.write(process.argv[2]));
    socket.on("data", (data) => process.stdout.write(String(data)));
    socket.on("error", (error) => process.stdout.write(error.code));`;
  const hello = encodeLine({ type: "shutdown", token });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["-e", script, path, hello], { uid, gid: uid, cwd: "/" });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.once("error", reject);
    child.once("close", () => resolve(out.trim()));
  });
}

/**
 * `link` (main's helper.sock) points at a socket handed to `uid` (0600) in a directory of root's
 * that others may pass through but not list (0711); through the link `uid` reaches the helper,
 * which checks the token, and `otherUid` cannot even connect. Returns the socket's path.
 */
export async function assertHandedToUser(link: string, uid: number, otherUid: number): Promise<string> {
  assert.ok(lstatSync(link).isSymbolicLink(), "main's helper.sock is a link into root's directory");
  const socket = readlinkSync(link);
  const socketInfo = lstatSync(socket);
  assert.ok(socketInfo.isSocket());
  assert.equal(socketInfo.uid, uid, "the socket is handed to the user");
  assert.equal(socketInfo.mode & 0o777, 0o600);
  const privateInfo = lstatSync(dirname(socket));
  assert.equal(privateInfo.uid, 0, "in a directory of root's");
  assert.equal(privateInfo.mode & 0o777, 0o711, "others may pass through, not list");
  assert.match(
    await helloAs(uid, link, "0".repeat(64)),
    /"refused".*wrong token/,
    "the user reaches the helper",
  );
  assert.equal(await helloAs(otherUid, socket, "0".repeat(64)), "EACCES", "another user cannot connect");
  return socket;
}
