// The test body frame of the suites that load the native addon in namespaces of their own (TUN,
// ICMP, the agent's cleanup): skipped, saying why, where namespaces or tools are missing; else the
// addon built and a lab that is removed after the test, even when it fails.
import type { TestContext } from "node:test";
import { NetnsLab } from "./lab.js";
import { buildNativeAddon } from "./native-addon.js";
import { netnsSkipReason, whenMet, type NetnsRequirements } from "./preconditions.js";

export function inAddonLab(
  requirements: NetnsRequirements,
  body: (lab: NetnsLab, t: TestContext) => Promise<void>,
): (t: TestContext) => Promise<void> {
  return whenMet(
    () => netnsSkipReason(requirements),
    async (t) => {
      buildNativeAddon();
      const lab = new NetnsLab();
      t.after(() => lab.cleanup());
      await body(lab, t);
    },
  );
}
