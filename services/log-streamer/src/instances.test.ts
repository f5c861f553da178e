// Unit tests of instance discovery from pod status and of the read plan.
import { describe, expect, it } from "vitest";
import { instanceKey, parseInstanceKey, planRead, podInstances, type PodLike } from "./instances.js";

function pod(status: PodLike["status"], uid = "u1"): PodLike {
  return {
    metadata: { name: "web-1", namespace: "shop", uid, labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "rs1", controller: true }] },
    spec: { nodeName: "node-1" },
    status,
  };
}

describe("podInstances", () => {
  it("lists started instances: init in order, regular, ephemeral; waiting ones are left out", () => {
    const p = pod({
      initContainerStatuses: [
        { name: "init-a", restartCount: 0, state: { terminated: { exitCode: 0 } } },
        { name: "init-b", restartCount: 0, state: { running: {} } },
      ],
      containerStatuses: [{ name: "app", restartCount: 0, state: { waiting: { reason: "PodInitializing" } } }],
      ephemeralContainerStatuses: [{ name: "debug", restartCount: 0, state: { running: {} } }],
    });
    const got = podInstances(p, 7);
    expect(got.map((i) => [i.container, i.containerType, i.restartCount])).toEqual([
      ["init-a", "init", 0],
      ["init-b", "init", 0],
      ["debug", "ephemeral", 0],
    ]);
    expect(got[0]).toMatchObject({ namespace: "shop", pod: "web-1", podUid: "u1", node: "node-1", podLabels: { app: "web" }, seenAtMs: 7 });
    expect(got[0]!.podOwnerRefs[0]).toEqual({ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: "rs1", controller: true });
  });

  it("in CrashLoopBackOff the terminated previous instance is wanted, the waiting one not", () => {
    const p = pod({
      containerStatuses: [{ name: "app", restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1 } } }],
    });
    expect(podInstances(p).map((i) => i.restartCount)).toEqual([2]);
    const running = pod({ containerStatuses: [{ name: "app", restartCount: 3, state: { running: {} }, lastState: { terminated: { exitCode: 1 } } }] });
    expect(podInstances(running).map((i) => i.restartCount)).toEqual([2, 3]);
  });
});

describe("planRead", () => {
  const inst = { podUid: "u1", container: "app", restartCount: 2 };
  const cs = (restartCount: number, state: object) => pod({ containerStatuses: [{ name: "app", restartCount, state }] });

  it("follows the running current instance, reads the rest of a terminated one", () => {
    expect(planRead(cs(2, { running: {} }), inst).kind).toBe("follow");
    expect(planRead(cs(2, { terminated: { exitCode: 0 } }), inst).kind).toBe("final");
  });
  it("reads previous after one restart, reports lost after two", () => {
    expect(planRead(cs(3, { waiting: {} }), inst).kind).toBe("previous");
    expect(planRead(cs(3, { running: {} }), inst).kind).toBe("previous");
    expect(planRead(cs(4, { running: {} }), inst).kind).toBe("lost");
  });
  it("gone when the pod is missing or was recreated under the same name", () => {
    expect(planRead(undefined, inst).kind).toBe("gone");
    expect(planRead(pod({}, "other-uid"), inst).kind).toBe("gone");
  });
  it("waits while the instance has not started", () => {
    expect(planRead(cs(2, { waiting: { reason: "ContainerCreating" } }), inst).kind).toBe("wait");
    expect(planRead(cs(1, { running: {} }), inst).kind).toBe("wait");
  });
});

describe("instance keys", () => {
  it("round-trip", () => {
    const i = { podUid: "a-b-c", container: "app", restartCount: 12 };
    expect(instanceKey(i)).toBe("a-b-c/app/12");
    expect(parseInstanceKey(instanceKey(i))).toEqual(i);
  });
});
