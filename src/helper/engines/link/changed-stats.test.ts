import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { test } from "node:test";
import { reportChangedStats } from "./changed-stats.js";
import type { Link } from "./link.js";

/** What reportChangedStats uses of a Link: whether it is open, sendStats, and its close. */
function fakeLink(accepts = () => true): { link: Link; sent: Record<string, number>[]; close(): void } {
  const events = new EventEmitter();
  const sent: Record<string, number>[] = [];
  let open = true;
  const link = {
    get isOpen() {
      return open;
    },
    sendStats(extra: Record<string, number>) {
      if (!accepts()) return false;
      sent.push({ ...extra });
      return true;
    },
    once: (event: string, listener: () => void) => events.once(event, listener),
  } as unknown as Link;
  return {
    link,
    sent,
    close() {
      open = false;
      events.emit("close");
    },
  };
}

test("sends only what changed since the last report: nothing while idle", () => {
  const fake = fakeLink();
  let counts = { "agent.split.viaRemote": 0 };
  const reporter = reportChangedStats(fake.link, () => counts, 3_600_000);
  try {
    reporter.poll();
    reporter.poll();
    assert.deepEqual(fake.sent, [{ "agent.split.viaRemote": 0 }]);
    counts = { "agent.split.viaRemote": 12 };
    reporter.poll();
    reporter.poll();
    assert.deepEqual(fake.sent.at(-1), { "agent.split.viaRemote": 12 });
    assert.equal(fake.sent.length, 2);
  } finally {
    reporter.stop();
  }
});

test("a state sent alongside goes out at once, with the counters, even when they did not change", () => {
  const fake = fakeLink();
  const reporter = reportChangedStats(fake.link, () => ({ "agent.dnsSetup": 2 }), 3_600_000);
  try {
    reporter.poll();
    reporter.poll({ "agent.dnsMode": 2, "agent.dnsChanges": 1 });
    assert.deepEqual(fake.sent, [
      { "agent.dnsSetup": 2 },
      { "agent.dnsSetup": 2, "agent.dnsMode": 2, "agent.dnsChanges": 1 },
    ]);
    reporter.poll();
    assert.equal(fake.sent.length, 2, "then quiet again");
  } finally {
    reporter.stop();
  }
});

test("a report the link did not take is tried again; a closed link gets none", () => {
  let accepts = false;
  const fake = fakeLink(() => accepts);
  const reporter = reportChangedStats(fake.link, () => ({ "agent.split.viaLink": 3 }), 3_600_000);
  reporter.poll();
  assert.equal(fake.sent.length, 0);
  accepts = true;
  reporter.poll();
  assert.deepEqual(fake.sent, [{ "agent.split.viaLink": 3 }]);
  fake.close();
  reporter.poll({ "agent.dnsMode": 1 });
  assert.equal(fake.sent.length, 1);
});

test("the timer looks by itself, every interval", async () => {
  const fake = fakeLink();
  let viaLink = 0;
  const reporter = reportChangedStats(fake.link, () => ({ "agent.split.viaLink": viaLink }), 20);
  try {
    for (let waited = 0; fake.sent.length === 0 && waited < 5_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    viaLink = 5;
    for (let waited = 0; fake.sent.length < 2 && waited < 5_000; waited += 10)
      await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(fake.sent, [{ "agent.split.viaLink": 0 }, { "agent.split.viaLink": 5 }]);
  } finally {
    reporter.stop();
  }
});
