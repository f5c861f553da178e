// The narrative on real demo stories: one plain sentence per entry, and what led to each incident.
import { describe, expect, it } from "vitest";
import { decodeStoryEntry, encodeStoryEntry, validateStoryFile, type Encodable, type StoryEntry, type StoryFile, type StoryTimelineEntry } from "@faro/contracts";
import { describeChange, narrateEntry, narrateIncident, narrateStory, narrateStoryEntry } from "../src/index.js";
import { CART, INVENTORY, loadFixture, NODE, PAYMENTS } from "./fixtures.js";

function sentencesOf(story: StoryFile, pred: (e: StoryTimelineEntry) => boolean): string[] {
  return story.timeline.filter(pred).map((e) => narrateEntry(e, story).sentence);
}

describe("fixtures", () => {
  it("are valid story files", () => {
    for (const f of [PAYMENTS, INVENTORY, CART, NODE]) expect(validateStoryFile(loadFixture(f)).errors, f).toEqual([]);
  });
});

describe("narrateStory", () => {
  it("tells every entry of every fixture as one non-empty line", () => {
    for (const f of [PAYMENTS, INVENTORY, CART, NODE]) {
      const story = loadFixture(f);
      const told = narrateStory(story);
      expect(told.map((n) => n.seq)).toEqual(story.timeline.map((e) => e.seq));
      for (const n of told) {
        expect(n.sentence.trim(), `${f} seq ${n.seq}`).not.toBe("");
        expect(n.sentence, `${f} seq ${n.seq}`).not.toMatch(/\n|undefined|\[object Object\]/);
      }
    }
  });

  it("tells the payments crash loop: scheduled, pulled, started, exited with the last line, restarted after a back-off", () => {
    const s = loadFixture(PAYMENTS);
    expect(sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "scheduled")).toEqual(["scheduled on sim-node-2"]);
    expect(sentencesOf(s, (e) => e.kind === "event" && e.data["reason"] === "Pulled")[0]).toBe("image shop/payments:0.9.3 pulled in 1s");
    expect(sentencesOf(s, (e) => e.kind === "event" && e.data["reason"] === "Pulled").at(-1)).toBe("image shop/payments:0.9.3 already on the node (×2)");
    expect(sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "started")).toEqual(["container `app` started", "container `app` started again (restart 1)", "container `app` started again (restart 2)"]);
    const restarts = sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "restarted");
    expect(restarts[0]).toBe('container `app` exited 1 (Error) after 20 s ("panic: runtime error: invalid memory address or nil pointer dereference"); restarted, back-off 10 s (CrashLoopBackOff)');
    expect(restarts[1]).toBe('container `app` exited 1 (Error) after 20 s ("panic: runtime error: invalid memory address or nil pointer dereference"); restarted, back-off 20 s (CrashLoopBackOff)');
    // The third restart's next run had not started when the snapshot was written: no back-off to tell.
    expect(restarts[2]).toMatch(/; restarted \(CrashLoopBackOff\)$/);
    expect(sentencesOf(s, (e) => e.kind === "incident")).toEqual(["incident: CrashLoopBackOff (high), container `app`, exit code 1"]);
    expect(sentencesOf(s, (e) => e.kind === "log" && e.seq === 22)).toEqual(['logged "processing payment 1"']);
    const told = narrateStory(s);
    expect(told.find((n) => n.kind === "incident")?.tone).toBe("error");
    expect(told.find((n) => n.kind === "event" && n.sentence.startsWith("kubelet backing off"))?.tone).toBe("warning");
  });

  it("tells the cart pod that was deleted and the one that replaced it", () => {
    const s = loadFixture(CART);
    expect(sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "deleted")).toEqual(["pod deleted; replaced by pod cart-dbfllvr6zx-n52qf"]);
    expect(sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "replaced")).toEqual(["replaces pod cart-dbfllvr6zx-vgb9p"]);
    expect(sentencesOf(s, (e) => e.kind === "lifecycle" && e.data["what"] === "terminated")).toEqual(["container `app` exited 0 (Completed) after 1 min 29 s"]);
    expect(sentencesOf(s, (e) => e.kind === "event" && e.data["reason"] === "Killing")).toEqual(["kubelet stopping container `app`"]);
  });

  it("tells an image that cannot be pulled", () => {
    const s = loadFixture(INVENTORY);
    expect(sentencesOf(s, (e) => e.kind === "event" && e.data["reason"] === "Failed")).toContain("cannot pull image shop/inventory:does-not-exist (not found)");
  });

  it("tells a log instance that was never read and a change of image", () => {
    const s = loadFixture(CART);
    const unread: StoryTimelineEntry = {
      seq: 999,
      timestamp: "2026-12-08T00:54:30Z",
      kind: "log",
      summary: "log not read",
      pod: "cart-dbfllvr6zx-vgb9p",
      container: "app",
      data: { container: "app", restartCount: 1, lines: [], unread: { reason: "gone_before_read" } },
    };
    expect(narrateEntry(unread, s).sentence).toBe("log of restart 1 lost: the pod was deleted before its log was read");
    expect(describeChange("Deployment", "web", "MODIFIED", [{ op: "replace", path: "/spec/template/spec/containers/0/image", from: "web:1", to: "web:2" }])).toBe("Deployment web: image changed to web:2");
    expect(describeChange("Deployment", "web", "MODIFIED", [{ op: "replace", path: "/spec/replicas", from: 2, to: 3 }])).toBe("Deployment web scaled from 2 to 3");
  });
});

describe("narrateIncident", () => {
  it("says what led to the payments crash loop", () => {
    const s = loadFixture(PAYMENTS);
    const text = narrateIncident(s.incidents[0]!, s);
    expect(text).toContain("ReplicaSet payments-d6dwbrtdjm scaled from 0 to 1");
    expect(text).toContain("Pod payments-d6dwbrtdjm-dgbp7 ran on sim-node-2");
    expect(text).toContain("Container `app` exited 1 (Error) after 20 s.");
    expect(text).toContain('Its last log line: "panic: runtime error: invalid memory address or nil pointer dereference".');
    expect(text).toContain("Kubernetes: kubelet backing off before restarting container `app`.");
    expect(text).toMatch(/Faro raised CrashLoopBackOff \(high\) at 00:53:15\.000\.$/);
  });

  it("says an image that cannot be pulled left the container never started", () => {
    const s = loadFixture(INVENTORY);
    const text = narrateIncident(s.incidents[0]!, s);
    expect(text).toContain("Container `app` never started.");
    expect(text).toContain("cannot pull image shop/inventory:does-not-exist (not found)");
    expect(text).not.toContain("last log line");
  });
});

describe("narrateStoryEntry", () => {
  it("tells an entry off the bus the way the file tells it, without hindsight", () => {
    const built = {
      schemaVersion: 2,
      storyId: "s-0123456789abcdef",
      window: 0,
      seq: 7,
      orderingKey: "k",
      tenant: "t",
      cluster: "c",
      namespace: "shop",
      workload: { apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u" },
      entryKind: "lifecycle",
      timestamp: "2026-12-08T00:53:15Z",
      pod: { name: "web-1", uid: "p", node: "node-2", replacesPodUid: "" },
      summary: "container app restarted (restart 1, exit code 1, Error)",
      lifecycle: { what: "restarted", container: "app", containerType: "regular", restartCount: 1, waiting: "CrashLoopBackOff", termination: { exitCode: 1, reason: "Error", startedAt: "2026-12-08T00:52:55Z", finishedAt: "2026-12-08T00:53:07Z" } },
    } as unknown as Encodable<StoryEntry>;
    const n = narrateStoryEntry(decodeStoryEntry(encodeStoryEntry(built)));
    expect(n).toMatchObject({ seq: 7, kind: "lifecycle", pod: "web-1", container: "app", tone: "error" });
    expect(n.sentence).toBe("container `app` exited 1 (Error) after 12 s; restarted (CrashLoopBackOff)");
  });
});
