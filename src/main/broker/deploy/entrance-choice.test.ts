import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseEntrance, describeEntrance, isEntranceMode } from "./entrance-choice.js";

const remote = (tun: boolean, sudo: "root" | "ok" | "password" | "missing") => ({ tun, sudo, user: "dev" });

test("auto: the TUN entrance when root or sudo can be had and /dev/net/tun exists", () => {
  assert.equal(chooseEntrance(remote(true, "root"), "auto", false).kind, "tun");
  assert.equal(chooseEntrance(remote(true, "ok"), "auto", false).kind, "tun");
  assert.equal(chooseEntrance(remote(true, "password"), "auto", true).kind, "tun");
});

test("auto: the proxy entrance, with its reason, when a question nobody can answer would stop the TUN", () => {
  assert.equal(
    describeEntrance(chooseEntrance(remote(true, "password"), "auto", false)),
    "proxy entrance: sudo needs a password and none can be asked here",
  );
  assert.equal(
    describeEntrance(chooseEntrance(remote(false, "root"), "auto", true)),
    "proxy entrance: the remote has no /dev/net/tun",
  );
  assert.equal(
    describeEntrance(chooseEntrance(remote(true, "missing"), "auto", true)),
    "proxy entrance: dev is not root and the remote has no sudo",
  );
});

test("an explicit mode wins; modes are checked", () => {
  assert.equal(chooseEntrance(remote(true, "root"), "proxy", true).kind, "proxy");
  assert.equal(chooseEntrance(remote(false, "missing"), "tun", false).kind, "tun");
  assert.equal(isEntranceMode("auto"), true);
  assert.equal(isEntranceMode("socks"), false);
});
