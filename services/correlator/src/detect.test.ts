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
    expect(detectPod(undefined, crash(3))[0]?.reason).toBe("CrashLoopBackOff");
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
  it("Unhealthy only from the threshold, FailedScheduling and Evicted always", () => {
    expect(detectEvent(ev("Unhealthy", 2), 3)).toEqual([]);
    expect(detectEvent(ev("Unhealthy", 3), 3)[0]).toMatchObject({ reason: "Unhealthy", container: "app", k8sTimestamp: "2026-01-01T00:01:10Z" });
    expect(detectEvent(ev("FailedScheduling"), 3)[0]?.reason).toBe("FailedScheduling");
    expect(detectEvent(ev("Evicted"), 3)[0]?.occurrenceId).toBe("evicted:pod-uid-1");
    expect(detectEvent(ev("Started"), 3)).toEqual([]);
    expect(detectEvent({ ...ev("Unhealthy", 5), type: "DELETED" }, 3)).toEqual([]);
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
