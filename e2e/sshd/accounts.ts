// Test users for the sshd harness, without touching this machine's accounts: copies of /etc/passwd,
// /etc/group, /etc/shadow and /etc/sudoers with our users appended, which server.ts bind-mounts
// over the real ones inside sshd's private mount namespace only.
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execFile } from "node:child_process";

export interface TestUser {
  name: string;
  uid: number;
  home: string;
  /** "nopasswd": `sudo -n` works; "password": sudo asks for a password; "none": not in sudoers. */
  sudo: "nopasswd" | "password" | "none";
  /** The user's password (sudo asks for it); absent: the user has none. */
  password?: string;
}

export interface AccountFiles {
  passwd: string;
  group: string;
  shadow: string;
  sudoers: string;
}

function usedIds(text: string): Set<number> {
  return new Set(text.split("\n").map((line) => Number(line.split(":")[2])));
}

/** The first free id at or above `from` in both passwd and group, and not in `taken`. */
function freeId(from: number, used: Set<number>, taken: Set<number>): number {
  let id = from;
  while (used.has(id) || taken.has(id)) id++;
  taken.add(id);
  return id;
}

function appendLines(original: string, lines: readonly string[]): string {
  const base = original.endsWith("\n") || original === "" ? original : `${original}\n`;
  return `${base}${lines.join("\n")}\n`;
}

/**
 * Writes the account copies into `dir/etc` and creates each user's home under `dir/home`
 * (owned by the user, so sshd's StrictModes accepts its authorized_keys).
 */
export async function createAccounts(
  dir: string,
  wanted: readonly { name: string; sudo: TestUser["sudo"]; password?: string }[],
): Promise<{ users: TestUser[]; files: AccountFiles }> {
  const [passwd, group, shadow, sudoers] = await Promise.all(
    ["passwd", "group", "shadow", "sudoers"].map((name) => readFile(join("/etc", name), "utf8")),
  );
  const used = new Set([...usedIds(passwd ?? ""), ...usedIds(group ?? "")]);
  const taken = new Set<number>();
  const users = wanted.map(({ name, sudo, password }) => ({
    name,
    sudo,
    ...(password !== undefined && { password }),
    uid: freeId(4242, used, taken),
    home: join(dir, "home", name),
  }));
  // Modes as a real system has them: sessions of each user must be able to walk down to their home.
  await mkdir(join(dir, "home"), { mode: 0o755 });
  for (const user of users) {
    await mkdir(user.home, { mode: 0o755 });
    await mkdir(join(user.home, ".ssh"), { mode: 0o700 });
    await chown(user.home, user.uid, user.uid);
    await chown(join(user.home, ".ssh"), user.uid, user.uid);
  }
  const etc = join(dir, "etc");
  await mkdir(etc, { recursive: true });
  const files: AccountFiles = {
    passwd: join(etc, "passwd"),
    group: join(etc, "group"),
    shadow: join(etc, "shadow"),
    sudoers: join(etc, "sudoers"),
  };
  // "*" in shadow: no password, but not locked (sshd refuses a locked account even for keys).
  await writeFile(
    files.passwd,
    appendLines(
      passwd ?? "",
      users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:backhaul test:${u.home}:/bin/bash`),
    ),
    { mode: 0o644 },
  );
  await writeFile(
    files.group,
    appendLines(
      group ?? "",
      users.map((u) => `${u.name}:x:${u.uid}:`),
    ),
    { mode: 0o644 },
  );
  const hashes = await Promise.all(
    users.map((u) => (u.password === undefined ? "*" : hashPassword(u.password))),
  );
  await writeFile(
    files.shadow,
    appendLines(
      shadow ?? "",
      users.map((u, i) => `${u.name}:${hashes[i]}:19000:0:99999:7:::`),
    ),
    {
      mode: 0o640,
    },
  );
  const rules = users
    .filter((u) => u.sudo !== "none")
    .map((u) => `${u.name} ALL=(ALL:ALL) ${u.sudo === "nopasswd" ? "NOPASSWD: " : ""}ALL`);
  // sudo refuses a sudoers file that is writable or not owned by root.
  await writeFile(files.sudoers, appendLines(sudoers ?? "", rules), { mode: 0o440 });
  return { users, files };
}

/** A SHA-512 crypt hash, as /etc/shadow holds it; the password goes through stdin, not argv. */
function hashPassword(password: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "openssl",
      ["passwd", "-6", "-stdin"],
      { timeout: 10_000 },
      (error, stdout, stderr) => {
        const hash = stdout.trim();
        if (error || !hash.startsWith("$6$"))
          reject(new Error(`openssl passwd failed: ${error?.message ?? ""} ${stderr}`));
        else resolve(hash);
      },
    );
    child.stdin?.end(`${password}\n`);
  });
}
