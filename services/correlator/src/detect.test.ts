// Unit tests of failure detection on simulator-shaped pod, workload and Event JSON.
import { describe, expect, it } from "vitest";
import { detectEvent, detectPod, detectStuck, detectWorkload, type EventFacts } from "./detect.js";
import { pod } from "./fixtures.test-util.js";

const crash = (n: number, waiting = "CrashLoopBackOff") =>
  pod({ rv: String(100 + n), restartCount: n, waiting: { reason: waiting, message: "back-off 10s restarting failed container=app" }, last: { exitCode: 1, reason: "Error", finishedAt: `2026-01-01T00:0${n}:00Z` } });

describe("detectPod", () => {
  it("CrashLoopBackOff on a restart with a non-zero exit, at the container's finishedAt", () => {
    const [d, ...rest] = detectPod(pod(), crash(1));
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ reason: "CrashLoopBackOff", severity: "high", container: "app", exitCode: 1, restartCount: 1, k8sTimestamp: "2026-01-01T00:01:00Z", instance: 0, terminated: true, occurrenceId: "crash:pod-uid-1:app:0" });
  });

  it("the same crash seen twice (terminated, then restarted) has one occurrence id", () => {
    const terminated = pod({ rv: "101", terminated: { exitCode: 1, reason: "Error", finishedAt: "2026-01-01T00:01:00Z" } });
    const a = detectPod(pod(), terminated);
    const b = detectPod(terminated, crash(1));
    expect(a[0]?.reason).toBe("NonZeroExit");
    expect(a[0]?.occurrenceId).toBe(b[0]?.occurrenceId);
  });

  it("OOMKilled, but not while the pod is being deleted", () => {
    const oom = pod({ rv: "102", restartCount: 1, waiting: { reason: "CrashLoopBackOff" }, last: { exitCode: 137, reason: "OOMKilled", finishedAt: "2026-01-01T00:01:00Z" } });
    expect(detectPod(pod(), oom).map((d) => d.reason)).toEqual(["OOMKilled"]);
    const draining = pod({ rv: "102", restartCount: 1, deletionTimestamp: "2026-01-01T00:01:30Z", last: { exitCode: 137, reason: "OOMKilled", finishedAt: "2026-01-01T00:01:00Z" } });
    expect(detectPod(pod(), draining)).toEqual([]);
  });

  it("image pull failures are one failure mode, detected on transitions only", () => {
    const pending = pod({ phase: "Pending", waiting: { reason: "ContainerCreating" } });
    const err = pod({ rv: "101", phase: "Pending", waiting: { reason: "ErrImagePull" } });
    const back = pod({ rv: "102", phase: "Pending", waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' } });
    expect(detectPod(pending, err).map((d) => d.reason)).toEqual(["ImagePullBackOff"]);
    expect(detectPod(err, back).map((d) => d.reason)).toEqual(["ImagePullBackOff"]);
    expect(detectPod(back, { ...back })).toEqual([]);
  });

  it("config errors, eviction, unschedulable", () => {
    expect(detectPod(pod(), pod({ waiting: { reason: "CreateContainerConfigError" } }))[0]?.reason).toBe("CreateContainerConfigError");
    expect(detectPod(pod(), pod({ waiting: { reason: "InvalidImageName" } }))[0]?.severity).toBe("high");
    expect(detectPod(pod(), pod({ phase: "Failed", statusReason: "Evicted" })).map((d) => d.reason)).toEqual(["Evicted"]);
    const uns = pod({ phase: "Pending", waiting: { reason: "ContainerCreating" }, scheduled: { status: "False", reason: "Unschedulable", at: "2026-01-01T00:00:02Z" } });
    expect(detectPod(undefined, uns).map((d) => [d.reason, d.k8sTimestamp])).toEqual([["FailedScheduling", "2026-01-01T00:00:02Z"]]);
    expect(detectPod(uns, { ...uns })).toEqual([]);
  });

  it("a healthy restart (exit 0) and a first sight without crash loop are not failures", () => {
    expect(detectPod(pod(), pod({ restartCount: 1, last: { exitCode: 0, reason: "Completed", finishedAt: "2026-01-01T00:01:00Z" } }))).toEqual([]);
    expect(detectPod(undefined, pod({ restartCount: 3, last: { exitCode: 1, reason: "Error", finishedAt: "2026-01-01T00:01:00Z" } }))).toEqual([]);
    expect(detectPod(undefined, crash(3))[0]).toMatchObject({ reason: "CrashLoopBackOff", afterTheFact: true });
  });

  it("first sight: an OOM kill the status still records for a running container is reported once, after the fact", () => {
    const recovered = pod({ restartCount: 2, last: { exitCode: 137, reason: "OOMKilled", finishedAt: "2026-01-01T00:01:00Z" } });
    const [d, ...rest] = detectPod(undefined, recovered);
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ reason: "OOMKilled", afterTheFact: true, k8sTimestamp: "2026-01-01T00:01:00Z", instance: 1, occurrenceId: "crash:pod-uid-1:app:1" });
    expect(d?.message).toMatch(/running again/);
    // Seen again without a change: nothing.
    expect(detectPod(recovered, { ...recovered })).toEqual([]);
  });

  it("container types and the newer waiting reasons, with their evidence", () => {
    const p = pod({ waiting: { reason: "ErrImageNeverPull", message: 'Container image "x:local" is not present with pull policy of Never' } });
    const [d] = detectPod(pod(), p);
    expect(d).toMatchObject({ reason: "ErrImageNeverPull", containerType: "regular", severity: "high" });
    expect(d?.evidence[0]).toMatchObject({ source: "status", field: "status.containerStatuses[app].state.waiting", reason: "ErrImageNeverPull" });
    for (const r of ["ImageInspectError", "PreStartHookError"]) expect(detectPod(pod(), pod({ waiting: { reason: r } }))[0]?.reason).toBe(r);
    const sidecar = { ...p, spec: { ...p.spec, initContainers: [{ name: "proxy", image: "envoy", restartPolicy: "Always" }] }, status: { ...p.status, containerStatuses: [], initContainerStatuses: [{ name: "proxy", restartCount: 0, state: { waiting: { reason: "ImagePullBackOff" } } }] } };
    expect(detectPod(undefined, sidecar)[0]).toMatchObject({ reason: "ImagePullBackOff", container: "proxy", containerType: "sidecar" });
  });
});

describe("detectWorkload", () => {
  it("Deployment ProgressDeadlineExceeded and Job BackoffLimitExceeded on the transition", () => {
    const dep = (reason: string) => ({ kind: "Deployment", metadata: { uid: "d1" }, status: { conditions: [{ type: "Progressing", status: reason === "ProgressDeadlineExceeded" ? "False" : "True", reason, lastTransitionTime: "2026-01-01T00:10:00Z" }] } });
    expect(detectWorkload("Deployment", dep("ReplicaSetUpdated"), dep("ProgressDeadlineExceeded"))[0]).toMatchObject({ reason: "ProgressDeadlineExceeded", k8sTimestamp: "2026-01-01T00:10:00Z" });
    expect(detectWorkload("Deployment", dep("ProgressDeadlineExceeded"), dep("ProgressDeadlineExceeded"))).toEqual([]);
    const job = { kind: "Job", metadata: { uid: "j1" }, status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", lastTransitionTime: "2026-01-01T00:05:00Z" }] } };
    expect(detectWorkload("Job", undefined, job)[0]).toMatchObject({ reason: "BackoffLimitExceeded", occurrenceId: "job:j1:BackoffLimitExceeded" });
  });
});

describe("detectEvent", () => {
  const ev = (reason: string, count = 1, kind = "Pod"): EventFacts => ({
    type: "ADDED",
    uid: "e1",
    reason,
    message: "Readiness probe failed: HTTP probe failed with statuscode: 503",
    eventType: "Warning",
    count,
    firstTimestamp: "2026-01-01T00:00:10Z",
    lastTimestamp: "2026-01-01T00:01:10Z",
    eventTime: "",
    involved: { kind, name: "web-x", uid: "pod-uid-1", fieldPath: "spec.containers{app}" },
  });
  it("probe failures only from the threshold, named by the probe; FailedScheduling and Evicted always", () => {
    expect(detectEvent(ev("Unhealthy", 2), 3)).toEqual([]);
    expect(detectEvent(ev("Unhealthy", 3), 3)[0]).toMatchObject({ reason: "ReadinessProbeFailed", container: "app", containerType: "regular", k8sTimestamp: "2026-01-01T00:01:10Z" });
    expect(detectEvent({ ...ev("Unhealthy", 3), message: "Liveness probe failed: HTTP probe failed with statuscode: 500" }, 3)[0]?.reason).toBe("LivenessProbeFailed");
    expect(detectEvent({ ...ev("Unhealthy", 3), message: "probe errored" }, 3)[0]?.reason).toBe("Unhealthy");
    expect(detectEvent(ev("Unhealthy", 3), 3)[0]?.evidence).toEqual([{ source: "event", object: "Pod/web-x", field: "spec.containers{app}", reason: "Unhealthy", message: "Readiness probe failed: HTTP probe failed with statuscode: 503", time: "2026-01-01T00:01:10Z", value: "count=3" }]);
    expect(detectEvent(ev("FailedScheduling"), 3)[0]?.reason).toBe("FailedScheduling");
    expect(detectEvent(ev("Evicted"), 3)[0]?.occurrenceId).toBe("evicted:pod-uid-1");
    expect(detectEvent(ev("Started"), 3)).toEqual([]);
    expect(detectEvent({ ...ev("Unhealthy", 5), type: "DELETED" }, 3)).toEqual([]);
  });
});

describe("detectWorkload: nodes, claims, autoscalers", () => {
  const node = (conds: Record<string, string>) => ({ kind: "Node", metadata: { name: "node-2", uid: "n2" }, status: { conditions: Object.entries(conds).map(([type, status]) => ({ type, status, reason: `Kubelet${type}`, lastTransitionTime: "2026-01-01T00:03:00Z" })) } });
  it("Node NotReady and pressure on the transition, after the fact on first sight", () => {
    const ok = node({ Ready: "True", MemoryPressure: "False", DiskPressure: "False", PIDPressure: "False" });
    expect(detectWorkload("Node", undefined, ok)).toEqual([]);
    const bad = node({ Ready: "False", MemoryPressure: "True", DiskPressure: "False", PIDPressure: "True" });
    expect(detectWorkload("Node", ok, bad).map((d) => [d.reason, d.afterTheFact ?? false])).toEqual([["NodeNotReady", false], ["NodeMemoryPressure", false], ["NodePIDPressure", false]]);
    expect(detectWorkload("Node", bad, { ...bad })).toEqual([]);
    expect(detectWorkload("Node", undefined, bad).every((d) => d.afterTheFact)).toBe(true);
    expect(detectWorkload("Node", ok, bad)[1]?.evidence[0]).toMatchObject({ source: "condition", field: "status.conditions[MemoryPressure]", value: "True", time: "2026-01-01T00:03:00Z" });
  });
  it("HPA pinned at its maximum, PVC lost", () => {
    const hpa = (current: number, desired: number) => ({ kind: "HorizontalPodAutoscaler", metadata: { name: "web", uid: "h1" }, spec: { maxReplicas: 5 }, status: { currentReplicas: current, desiredReplicas: desired, lastScaleTime: "2026-01-01T00:04:00Z" } });
    expect(detectWorkload("HorizontalPodAutoscaler", hpa(3, 5), hpa(5, 5))[0]).toMatchObject({ reason: "HPAMaxReplicas", k8sTimestamp: "2026-01-01T00:04:00Z" });
    expect(detectWorkload("HorizontalPodAutoscaler", hpa(5, 5), hpa(5, 5))).toEqual([]);
    expect(detectWorkload("HorizontalPodAutoscaler", hpa(2, 3), hpa(3, 4))).toEqual([]);
    const pvc = (phase: string) => ({ kind: "PersistentVolumeClaim", metadata: { name: "data", uid: "c1" }, status: { phase } });
    expect(detectWorkload("PersistentVolumeClaim", pvc("Bound"), pvc("Lost"))[0]?.reason).toBe("PersistentVolumeClaimLost");
  });
});

describe("detectStuck", () => {
  it("pending and terminating past their thresholds", () => {
    const now = Date.parse("2026-01-01T00:20:00Z");
    const pending = pod({ phase: "Pending", waiting: { reason: "ContainerCreating" } });
    expect(detectStuck(pending, now, 10 * 60_000, 10 * 60_000)[0]?.reason).toBe("StuckPending");
    expect(detectStuck(pending, now, 30 * 60_000, 10 * 60_000)).toEqual([]);
    const terminating = pod({ deletionTimestamp: "2026-01-01T00:05:00Z" });
    expect(detectStuck(terminating, now, 10 * 60_000, 10 * 60_000)[0]?.reason).toBe("StuckTerminating");
  });
});
