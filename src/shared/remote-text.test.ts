import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { REMOTE_TEXT_LIMIT, sanitiseRemoteText } from "./remote-text.js";

const ESC = "\u001b";
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e]/u;

describe("sanitiseRemoteText", () => {
  test("OSC 52 (clipboard write) is removed whole, with BEL, ST or no terminator", () => {
    assert.equal(sanitiseRemoteText(`a${ESC}]52;c;ZWNobyBwd25lZA==\u0007b`), "ab");
    assert.equal(sanitiseRemoteText(`a${ESC}]52;c;ZWNobw==${ESC}\\b`), "ab");
    assert.equal(sanitiseRemoteText(`a\u009d52;c;ZWNobw==\u009cb`), "ab");
    assert.equal(sanitiseRemoteText(`a${ESC}]0;owned title`), "a");
  });

  test("CSI, DCS, APC, PM, SOS and two-byte escapes go; the text around them stays", () => {
    assert.equal(sanitiseRemoteText(`${ESC}[2J${ESC}[1;31mred${ESC}[0m`), "red");
    assert.equal(sanitiseRemoteText(`\u009b6nx`), "x");
    assert.equal(sanitiseRemoteText(`${ESC}P+q544e${ESC}\\ok`), "ok");
    assert.equal(sanitiseRemoteText(`${ESC}_app${ESC}\\${ESC}^pm\u0007${ESC}Xsos${ESC}\\done`), "done");
    assert.equal(sanitiseRemoteText(`${ESC}c${ESC}(B${ESC}7x${ESC}`), "x");
  });

  test("controls are removed, tab kept, line breaks become spaces", () => {
    assert.equal(sanitiseRemoteText("a\u0000b\u0008c\u007fd\u0085e\tf"), "abcd e\tf");
    assert.equal(sanitiseRemoteText("one\r\nbackhaul: connected"), "one  backhaul: connected");
    assert.equal(sanitiseRemoteText("x\u2028y"), "x y");
  });

  test("bidi overrides, isolates and invisible format characters become U+FFFD", () => {
    for (const char of [
      "\u202a",
      "\u202b",
      "\u202c",
      "\u202d",
      "\u202e",
      "\u2066",
      "\u2067",
      "\u2068",
      "\u2069",
    ]) {
      assert.equal(sanitiseRemoteText(`a${char}b`), "a\uFFFDb", `U+${char.codePointAt(0)?.toString(16)}`);
    }
    assert.equal(sanitiseRemoteText("zero\u200bwidth\u200e\ufeff"), "zero\uFFFDwidth\uFFFD\uFFFD");
  });

  test("ordinary text, accents and emoji pass unchanged", () => {
    const plain = "routing 3 prefix(es) into bh0 — café 日本 🙂 [ok] ~/x";
    assert.equal(sanitiseRemoteText(plain), plain);
  });

  test("long text is cut at the limit without splitting a character", () => {
    const long = "🙂".repeat(REMOTE_TEXT_LIMIT + 10);
    const cut = sanitiseRemoteText(long);
    assert.equal(Array.from(cut).length, REMOTE_TEXT_LIMIT + 1);
    assert.ok(cut.endsWith("🙂…"));
    assert.equal(sanitiseRemoteText("abcdef", 3), "abc…");
  });

  test("no escape byte survives any mix of hostile pieces", () => {
    const pieces = [
      ESC,
      "[",
      "]",
      "52;c;",
      "\u0007",
      "\\",
      "\u009b",
      "\u009d",
      "\u009c",
      "P",
      "x",
      "\n",
      "\u202e",
    ];
    let seed = 7;
    for (let run = 0; run < 2000; run++) {
      let input = "";
      for (let i = 0; i < 12; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        input += pieces[seed % pieces.length];
      }
      const out = sanitiseRemoteText(input);
      assert.doesNotMatch(out, UNSAFE, JSON.stringify(input));
    }
  });
});
