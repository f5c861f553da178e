// Validation of story files against schema/story.schema.json.
import { describe, expect, it } from "vitest";
import { validateStoryFile, type StoryFile } from "./story-file.js";

const ts = "2026-11-22T02:00:00.123456789Z";

function sample(): StoryFile {
  return {
    schemaVersion: 1,
    storyId: "s-0123456789abcdef",
    window: 1,
    previousWindow: 0,
    tenant: "team-a",
    cluster: "prod-eu",
    namespace: "shop",
    workload: { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" },
    ownerChain: [
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f", uid: "rs-uid" },
      { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "dep-uid" },
    ],
    openedAt: "2026-11-22T01:00:00Z",
    closedAt: "2026-11-22T02:10:00.000Z",
    closeReason: "idle",
    pods: [
      {
        name: "web-7d9f-abcde",
        uid: "pod-uid",
        node: "node-1",
        replacesPodUid: "old-pod-uid",
        createdAt: "2026-11-22T01:00:01Z",
        containers: [
          { name: "init-db", type: "init", instances: [{ restartCount: 0, startedAt: ts, finishedAt: ts, exitCode: 0, reason: "Completed" }] },
          { name: "app", type: "regular", instances: [{ restartCount: 0, exitCode: 137, reason: "OOMKilled" }, { restartCount: 1, startedAt: ts }] },
        ],
      },
    ],
    timeline: [
      { seq: 0, timestamp: "2026-11-22T01:00:00Z", kind: "open", summary: "story opened", data: {} },
      { seq: 1, timestamp: ts, kind: "change", summary: "replicas 2 → 3", data: { diff: [{ op: "replace", path: "/spec/replicas", value: 3 }] } },
      {
        seq: 2,
        timestamp: ts,
        kind: "event",
        summary: "Warning BackOff",
        pod: "web-7d9f-abcde",
        data: { reason: "BackOff", type: "Warning", message: "Back-off restarting", count: 3, source: "kubelet", extraField: true },
      },
      {
        seq: 3,
        timestamp: ts,
        kind: "log",
        summary: "app: 1 line",
        pod: "web-7d9f-abcde",
        container: "app",
        data: { container: "app", restartCount: 0, lines: [{ timestamp: ts, line: "panic: out of memory" }] },
      },
      { seq: 4, timestamp: ts, kind: "incident", summary: "OOMKilled", data: { incidentId: "i-1", reason: "OOMKilled", severity: "high" } },
      { seq: 5, timestamp: ts, kind: "lifecycle", summary: "container app restarted", data: { anything: "goes" } },
    ],
    incidents: [
      {
        incidentId: "i-1",
        reason: "OOMKilled",
        severity: "high",
        detectedAt: "2026-11-22T02:00:01.234Z",
        repeatCount: 1,
        container: "app",
        exitCode: 137,
        logTail: [{ timestamp: ts, line: "panic: out of memory", truncated: false }],
        previousLog: [],
        events: [{ reason: "BackOff", type: "Warning", message: "Back-off restarting", count: 3 }],
      },
    ],
    elided: { logLines: { app: 120 } },
    stats: { entries: 6, logLines: 1 },
  };
}

describe("validateStoryFile", () => {
  it("accepts a complete sample", () => {
    expect(validateStoryFile(sample())).toEqual({ ok: true, errors: [] });
  });

  it("names the path and the problem when a kind-specific field is missing", () => {
    const bad = sample();
    bad.timeline[1]!.data = { notADiff: 1 };
    const result = validateStoryFile(bad);
    expect(result.ok).toBe(false);
    expect(result.errors).toContain("/timeline/1/data: must have required property 'diff'");
  });

  it("reports every problem at once, with allowed values for enums", () => {
    const bad = sample() as unknown as Record<string, unknown>;
    bad["schemaVersion"] = 2;
    bad["closeReason"] = "bored";
    delete bad["storyId"];
    (bad["pods"] as { containers: { type: string }[] }[])[0]!.containers[0]!.type = "sidecar";
    (bad["incidents"] as { detectedAt: string }[])[0]!.detectedAt = "yesterday";
    const result = validateStoryFile(bad);
    expect(result.ok).toBe(false);
    const text = result.errors.join("\n");
    expect(text).toMatch(/\/schemaVersion: must be equal to constant/);
    expect(text).toMatch(/\/closeReason: must be equal to one of the allowed values \(root-deleted\|idle\|max-length\|snapshot\|shutdown\)/);
    expect(text).toMatch(/\/: must have required property 'storyId'/);
    expect(text).toMatch(/\/pods\/0\/containers\/0\/type/);
    expect(text).toMatch(/\/incidents\/0\/detectedAt: must match pattern/);
  });

  it("lists unread instance logs: a log entry without lines saying why, and unreadLogs at the top", () => {
    const ok = sample();
    ok.timeline.push({
      seq: 6,
      timestamp: ts,
      kind: "log",
      summary: "log of web-7d9f-zzzzz/app (restart 0) not read: the pod was deleted before its log was read",
      pod: "web-7d9f-zzzzz",
      container: "app",
      data: { container: "app", restartCount: 0, lines: [], unread: { reason: "gone_before_read" } },
    });
    ok.unreadLogs = [{ pod: "web-7d9f-zzzzz", podUid: "pod-z", container: "app", restartCount: 0, reason: "gone_before_read" }];
    expect(validateStoryFile(ok)).toEqual({ ok: true, errors: [] });
    // Files without the field (every window where all logs were read) stay valid.
    delete ok.unreadLogs;
    expect(validateStoryFile(ok).ok).toBe(true);

    const bad = sample() as unknown as Record<string, unknown>;
    bad["unreadLogs"] = [{ pod: "p", podUid: "u", container: "", restartCount: -1 }];
    (bad["timeline"] as { data: Record<string, unknown> }[])[3]!.data["unread"] = { why: "gone" };
    const text = validateStoryFile(bad).errors.join("\n");
    expect(text).toMatch(/\/unreadLogs\/0: must have required property 'reason'/);
    expect(text).toMatch(/\/unreadLogs\/0\/container: must NOT have fewer than 1 characters/);
    expect(text).toMatch(/\/unreadLogs\/0\/restartCount: must be >= 0/);
    expect(text).toMatch(/\/timeline\/3\/data\/unread: must have required property 'reason'/);
  });

  it("rejects what is not an object", () => {
    expect(validateStoryFile(null).ok).toBe(false);
    expect(validateStoryFile("story").ok).toBe(false);
  });
});
