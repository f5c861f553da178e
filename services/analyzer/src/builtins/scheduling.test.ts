import { describe, expect, it } from "vitest";
import { evidenceResolves } from "@faro/contracts";
import { loadFixture } from "../../test/fixtures.js";
import { IncidentView } from "../view.js";
import { parseFailedScheduling, scheduling } from "./scheduling.js";

describe("scheduling", () => {
  it("names the failed predicate and the request behind it (recorded: 500 CPUs requested)", () => {
    const ic = loadFixture("analysis-giant-FailedScheduling");
    const f = scheduling.analyze(new IncidentView(ic))!;
    expect(f.probableCause).toMatch(/0 of 3 available\): 3 nodes: not enough unrequested CPU/);
    expect(f.probableCause).toMatch(/"Insufficient cpu"/);
    expect(f.evidence).toContainEqual({ kind: "manifest", index: 0, path: "/spec/containers/0/resources/requests/cpu", quote: "500" });
    for (const e of f.evidence) expect(evidenceResolves(ic, e)).toBe(true);
  });

  it("parses several predicates", () => {
    const m = "0/5 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful for scheduling.";
    expect(parseFailedScheduling(m)).toEqual({
      total: 5,
      predicates: [
        { nodes: 1, reason: "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }" },
        { nodes: 2, reason: "Insufficient memory" },
        { nodes: 2, reason: "node(s) didn't match Pod's node affinity/selector" },
      ],
    });
  });

  it("stays silent on other incidents", () => {
    expect(scheduling.analyze(new IncidentView(loadFixture("crashloop-crasher-CrashLoopBackOff")))).toBeUndefined();
  });
});
