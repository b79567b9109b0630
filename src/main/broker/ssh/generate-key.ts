// An Ed25519 key pair in OpenSSH's format, from ssh2's generator, checked before anyone gets it:
// about 1 in 300 pairs ssh2 1.17 generates is malformed (ssh2 and `ssh-keygen -y` both refuse it:
// "error in libcrypto"), and a key written once is used for good (gh shares codespaces.auto).
import ssh2 from "ssh2";

export interface KeyPairText {
  private: string;
  public: string;
}

export interface KeyPairOptions {
  comment?: string;
  /** With cipher and rounds: an encrypted private key. */
  passphrase?: string;
  cipher?: string;
  rounds?: number;
}

export type KeyPairGenerator = (options: KeyPairOptions) => KeyPairText;

const ATTEMPTS = 8;

const ssh2Generator: KeyPairGenerator = (options) => ssh2.utils.generateKeyPairSync("ed25519", options);

/**
 * A pair whose private key parses (with its passphrase) as ssh-ed25519 and whose public half is
 * the one written beside it; after ATTEMPTS malformed pairs in a row, an Error.
 */
export function generateEd25519KeyPair(
  options: KeyPairOptions = {},
  generate: KeyPairGenerator = ssh2Generator,
): KeyPairText {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const pair = generate(options);
    if (isWellFormed(pair, options.passphrase)) return pair;
  }
  throw new Error(`ssh2 generated ${ATTEMPTS} malformed Ed25519 keys in a row`);
}

function isWellFormed(pair: KeyPairText, passphrase: string | undefined): boolean {
  const parsed = ssh2.utils.parseKey(pair.private, passphrase);
  if (parsed instanceof Error || parsed.type !== "ssh-ed25519") return false;
  const [type, blob] = pair.public.trim().split(/\s+/);
  return type === "ssh-ed25519" && blob === parsed.getPublicSSH().toString("base64");
}
