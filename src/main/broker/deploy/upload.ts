// SFTP uploads that never leave a half-written file under the final name: write a temporary
// file beside it, then rename over the old one (atomic on the remote file system).
import { randomBytes } from "node:crypto";
import type { SFTPWrapper, Stats } from "ssh2";

function call<T>(start: (callback: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value))));
}

async function statOrUndefined(sftp: SFTPWrapper, path: string): Promise<Stats | undefined> {
  try {
    return await call<Stats>((done) => sftp.stat(path, done));
  } catch {
    return undefined;
  }
}

/**
 * `mkdir -p base/relative`: the directories it creates get `mode`, and so does the last one even if
 * it existed (mkdir's mode passes through the remote umask). Existing parents are left alone.
 */
export async function ensureDirectory(
  sftp: SFTPWrapper,
  base: string,
  relative: string,
  mode: number,
): Promise<string> {
  let path = base.replace(/\/+$/, "");
  for (const part of relative.split("/").filter(Boolean)) {
    path = `${path}/${part}`;
    const stats = await statOrUndefined(sftp, path);
    if (stats?.isDirectory()) continue;
    if (stats) throw new Error(`${path} exists on the remote and is not a directory`);
    await call<void>((done) => sftp.mkdir(path, { mode }, (error) => done(error, undefined)));
    await call<void>((done) => sftp.chmod(path, mode, (error) => done(error, undefined)));
  }
  await call<void>((done) => sftp.chmod(path, mode, (error) => done(error, undefined)));
  return path;
}

async function renameOver(sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    // posix-rename@openssh.com replaces the target; plain SFTP rename fails if it exists.
    await call<void>((done) => sftp.ext_openssh_rename(from, to, (error) => done(error, undefined)));
  } catch {
    await call<void>((done) => sftp.unlink(to, () => done(undefined, undefined)));
    await call<void>((done) => sftp.rename(from, to, (error) => done(error, undefined)));
  }
}

export async function uploadFile(
  sftp: SFTPWrapper,
  localPath: string,
  remotePath: string,
  mode: number,
  onProgress?: (sent: number, total: number) => void,
): Promise<void> {
  const slash = remotePath.lastIndexOf("/");
  const temporary = `${remotePath.slice(0, slash + 1)}.${remotePath.slice(slash + 1)}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await call<void>((done) =>
      sftp.fastPut(
        localPath,
        temporary,
        {
          mode,
          ...(onProgress && {
            step: (sent: number, _chunk: number, total: number) => onProgress(sent, total),
          }),
        },
        (error) => done(error, undefined),
      ),
    );
    await call<void>((done) => sftp.chmod(temporary, mode, (error) => done(error, undefined)));
    await renameOver(sftp, temporary, remotePath);
  } catch (error) {
    await call<void>((done) => sftp.unlink(temporary, () => done(undefined, undefined)));
    throw error;
  }
}
