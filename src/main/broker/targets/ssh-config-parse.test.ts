import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseConfigText, splitArguments } from "./ssh-config-parse.js";
import { isConcreteAlias, matchHostLine, matchHostnameList, matchPattern } from "./ssh-patterns.js";
import { expandPercent, expandTilde } from "./ssh-tokens.js";

describe("splitArguments (OpenSSH's argv_split)", () => {
  test("quotes group words and vanish; a backslash escapes quotes, backslashes and spaces", () => {
    assert.deepEqual(splitArguments(`"a b" c'd e'f g\\ h \\"i\\" j\\k`), [
      "a b",
      "cd ef",
      "g h",
      '"i"',
      "j\\k",
    ]);
  });

  test("a '#' starting a word ends the line; inside a word it does not", () => {
    assert.deepEqual(splitArguments("a#b c # comment"), ["a#b", "c"]);
    assert.deepEqual(splitArguments('"# not a comment"'), ["# not a comment"]);
  });

  test("an unterminated quote is refused", () => {
    assert.equal(splitArguments('"open'), null);
  });
});

describe("parseConfigText", () => {
  test("keyword separators: whitespace, one '=', or both; keywords lower-cased, values not", () => {
    const { directives, problems } = parseConfigText(
      'Port 1\nPort=2\nPort = 3\n\tPORT\t4\nUser  =Mixed\nProxyCommand  =  nc %h "%p" # kept\n',
      "f",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      directives.map((d) => [d.keyword, d.args, d.line]),
      [
        ["port", ["1"], 1],
        ["port", ["2"], 2],
        ["port", ["3"], 3],
        ["port", ["4"], 4],
        ["user", ["Mixed"], 5],
        ["proxycommand", ["nc", "%h", "%p"], 6],
      ],
    );
    assert.equal(
      directives[5]?.rest,
      'nc %h "%p" # kept',
      "ProxyCommand's raw text keeps quotes and comments",
    );
  });

  test("comments, blank lines and form feeds are skipped", () => {
    assert.deepEqual(parseConfigText("# c\n\n   \n  # indented\nHost a\f\n", "f").directives.length, 1);
  });
});

describe("patterns", () => {
  test("'*' and '?' against the whole name, case-sensitively (match_pattern)", () => {
    assert.ok(matchPattern("db.corp.test", "*.corp.test"));
    assert.ok(matchPattern("lab1", "lab?"));
    assert.ok(!matchPattern("lab12", "lab?"));
    assert.ok(matchPattern("anything", "*"));
    assert.ok(matchPattern("aXbXc", "a*b*c"));
    assert.ok(!matchPattern("Lab1", "lab?"));
    assert.ok(matchPattern("", "*"));
    assert.ok(!matchPattern("abc", "ab"));
  });

  test("a Host line needs a positive match and no negated one", () => {
    assert.ok(matchHostLine("db.corp.test", ["*.corp.test", "!bastion.corp.test"]));
    assert.ok(!matchHostLine("bastion.corp.test", ["*.corp.test", "!bastion.corp.test"]));
    assert.ok(!matchHostLine("other", ["!bastion"]), "only negations match nothing");
  });

  test("Match host lists: commas, negation, case-insensitive", () => {
    assert.ok(matchHostnameList("DB.Corp.Test", "*.corp.test,!bastion.*"));
    assert.ok(!matchHostnameList("bastion.corp.test", "*.corp.test,!bastion.*"));
  });

  test("concrete aliases", () => {
    assert.ok(isConcreteAlias("web"));
    assert.ok(!isConcreteAlias("web*"));
    assert.ok(!isConcreteAlias("!web"));
    assert.ok(!isConcreteAlias("lab?"));
  });
});

describe("tokens", () => {
  test("%% and known tokens; an unknown one is an error", () => {
    assert.equal(expandPercent("100%% %h:%p", { h: "host", p: "22" }), "100% host:22");
    assert.throws(() => expandPercent("%C", {}), /uses %C/);
    assert.throws(() => expandPercent("trailing %", {}), /lone '%'/);
  });

  test("~ is the home directory; ~user is left alone", () => {
    assert.equal(expandTilde("~/.ssh/id", "/home/dev"), "/home/dev/.ssh/id");
    assert.equal(expandTilde("~", "/home/dev"), "/home/dev");
    assert.equal(expandTilde("~root/.ssh/id", "/home/dev"), "~root/.ssh/id");
  });
});
