// Watch semantics through @kubernetes/client-node informers and raw HTTP: events, resume, forced close, 410 relist, bookmarks.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogQuery } from "../src/types.js";
import { codeOf, pod, startSim, until, type Sim } from "./api-helpers.js";

let sim: Sim;
let core: k8s.CoreV1Api;

beforeAll(async () => {
  sim = await startSim({ historySize: 50, bookmarkIntervalMs: 100 });
  core = sim.kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  await sim.stop();
});

/** Reads a watch stream line by line until `stop` says enough or the stream ends. */
async function readWatch(
  url: string,
  stop: (events: { type: string; object: any }[]) => boolean,
  timeoutMs = 5000,
): Promise<{ events: { type: string; object: any }[]; ended: boolean; status: number }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const events: { type: string; object: any }[] = [];
  let ended = false;
  let status = 0;
  try {
    const res = await fetch(url, { signal: ac.signal });
    status = res.status;
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (stop(events)) break;
    }
    ac.abort();
  } catch (err) {
    if ((err as Error).name !== "AbortError") throw err;
  } finally {
    clearTimeout(timer);
  }
  return { events, ended, status };
}

describe("informer", () => {
  it("sees ADDED, MODIFIED and DELETED and survives a server-side close", async () => {
    const path = "/api/v1/namespaces/default/pods";
    const informer = k8s.makeInformer(sim.kc, path, () => core.listNamespacedPod({ namespace: "default" }));
    const seen: string[] = [];
    const errors: unknown[] = [];
    informer.on("add", (p) => seen.push(`add:${p.metadata?.name}`));
    informer.on("update", (p) => seen.push(`update:${p.metadata?.name}:${p.metadata?.labels?.v ?? ""}`));
    informer.on("delete", (p) => seen.push(`delete:${p.metadata?.name}`));
    informer.on("error", (e) => errors.push(e));
    await core.createNamespacedPod({ namespace: "default", body: pod("before") });
    await informer.start();
    try {
      await until(() => seen.includes("add:before"), "initial list");
      await until(() => sim.server.watchCount() === 1, "watch open");
      await core.createNamespacedPod({ namespace: "default", body: pod("w1") });
      await core.patchNamespacedPod(
        { name: "w1", namespace: "default", body: { metadata: { labels: { v: "2" } } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedPod({ name: "w1", namespace: "default" });
      await until(() => seen.includes("delete:w1"), "delete event");
      expect(seen.filter((s) => s.includes("w1"))).toEqual(["add:w1", "update:w1:2", "delete:w1"]);

      sim.server.forceCloseWatches();
      // A change while the watch is down must still arrive: the informer resumes from its last RV.
      await core.createNamespacedPod({ namespace: "default", body: pod("after-close") });
      await until(() => seen.includes("add:after-close"), "event after forced close");
      await until(() => sim.server.watchCount() === 1, "watch re-opened");
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it("relists after a 410 when its resourceVersion fell out of the history", async () => {
    const path = "/api/v1/namespaces/default/configmaps";
    let lists = 0;
    const informer = k8s.makeInformer(sim.kc, path, () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace: "default" });
    });
    const errors: unknown[] = [];
    informer.on("error", (e) => errors.push(e));
    await informer.start();
    try {
      await until(() => sim.server.watchCount() >= 1 && lists === 1, "informer watching");
      // Close the watch and, in the same tick, write more than the history holds: the resume RV is gone.
      sim.server.forceCloseWatches();
      const cmType = sim.store.typeFor("", "configmaps")!;
      for (let i = 0; i < 60; i++) sim.store.create(cmType, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `churn-${i}`, namespace: "default" } });
      await until(() => lists >= 2, "relist");
      await until(() => informer.list("default").filter((c) => c.metadata?.name?.startsWith("churn-")).length === 60, "cache complete");
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});

describe("raw watch", () => {
  it("streams ADDED for current objects without resourceVersion, then live events", async () => {
    await core.createNamespace({ body: { metadata: { name: "rw" } } });
    await core.createNamespacedPod({ namespace: "rw", body: { ...pod("a"), metadata: { name: "a", namespace: "rw" } } });
    const p = readWatch(`${sim.server.url}/api/v1/namespaces/rw/pods?watch=true`, (ev) => ev.length >= 2);
    await until(() => sim.server.watchCount() >= 1, "watch open");
    await core.createNamespacedPod({ namespace: "rw", body: { ...pod("b"), metadata: { name: "b", namespace: "rw" } } });
    const { events, status } = await p;
    expect(status).toBe(200);
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(["ADDED:a", "ADDED:b"]);
  });

  it("resumes from a resourceVersion and filters by selectors", async () => {
    const list = await core.listNamespacedPod({ namespace: "rw" });
    const rv = list.metadata!.resourceVersion!;
    await core.createNamespacedPod({ namespace: "rw", body: { ...pod("c"), metadata: { name: "c", namespace: "rw", labels: { keep: "y" } } } });
    await core.createNamespacedPod({ namespace: "rw", body: { ...pod("d"), metadata: { name: "d", namespace: "rw" } } });
    const { events } = await readWatch(
      `${sim.server.url}/api/v1/namespaces/rw/pods?watch=1&resourceVersion=${rv}&labelSelector=keep%3Dy`,
      (ev) => ev.length >= 1,
    );
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(["ADDED:c"]);
  });

  it("turns selector transitions into ADDED and DELETED", async () => {
    const rv = (await core.listNamespacedPod({ namespace: "rw" })).metadata!.resourceVersion!;
    const p = readWatch(`${sim.server.url}/api/v1/namespaces/rw/pods?watch=true&resourceVersion=${rv}&labelSelector=keep%3Dy`, (ev) => ev.length >= 3);
    await until(() => sim.server.watchCount() >= 1, "watch open");
    const merge = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);
    await core.patchNamespacedPod({ name: "d", namespace: "rw", body: { metadata: { labels: { keep: "y" } } } }, merge);
    await core.patchNamespacedPod({ name: "d", namespace: "rw", body: { metadata: { annotations: { n: "1" } } } }, merge);
    await core.patchNamespacedPod({ name: "d", namespace: "rw", body: { metadata: { labels: { keep: null } } } }, merge);
    const { events } = await p;
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(["ADDED:d", "MODIFIED:d", "DELETED:d"]);
  });

  it("answers a too-old resourceVersion with an ERROR 410 event and closes", async () => {
    const { events, ended } = await readWatch(`${sim.server.url}/api/v1/pods?watch=true&resourceVersion=1`, () => false);
    expect(ended).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
  });

  it("sends bookmarks, the initial-events-end bookmark, and closes at timeoutSeconds", async () => {
    const { events, ended } = await readWatch(
      `${sim.server.url}/api/v1/namespaces/rw/pods?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
      () => false,
    );
    expect(ended).toBe(true);
    const adds = events.filter((e) => e.type === "ADDED").map((e) => e.object.metadata.name);
    expect(adds.sort()).toEqual(["a", "b", "c", "d"]);
    const firstBookmark = events.findIndex((e) => e.type === "BOOKMARK");
    expect(firstBookmark).toBe(4);
    expect(events[4]!.object.metadata.annotations).toEqual({ "k8s.io/initial-events-end": "true" });
    // Periodic bookmarks (every 100 ms here) follow within the 1 s timeout.
    expect(events.filter((e) => e.type === "BOOKMARK").length).toBeGreaterThan(2);
    const r = await fetch(`${sim.server.url}/api/v1/namespaces/rw/pods?watch=true&sendInitialEvents=true`);
    expect(r.status).toBe(422);
  });
});

describe("streams and shutdown", () => {
  it("hands pods/log to the LogProvider with a parsed query and ends streams on close (idempotent)", async () => {
    const queries: { ns: string; pod: string; q: LogQuery }[] = [];
    let aborted = 0;
    const local = await startSim({
      logs: {
        serveLogs(ns, podName, q, res, signal) {
          queries.push({ ns, pod: podName, q });
          signal.addEventListener("abort", () => aborted++);
          res.writeHead(200, { "Content-Type": "text/plain" });
          res.write("line 1\n");
          if (!q.follow) res.end();
        },
      },
    });
    try {
      const text = await (await fetch(`${local.server.url}/api/v1/namespaces/default/pods/p/log?container=app&timestamps=true&tailLines=5&pretty=false`)).text();
      expect(text).toBe("line 1\n");
      expect(queries[0]).toEqual({ ns: "default", pod: "p", q: { container: "app", follow: false, previous: false, timestamps: true, tailLines: 5 } });
      const follow = await fetch(`${local.server.url}/api/v1/namespaces/default/pods/p/log?follow=true&sinceTime=2026-01-01T00:00:00Z`);
      expect(queries[1]!.q).toMatchObject({ follow: true, sinceTime: "2026-01-01T00:00:00Z" });
      const watch = await fetch(`${local.server.url}/api/v1/pods?watch=true`);
      await until(() => local.server.watchCount() === 1, "watch open");
      await local.stop();
      await local.stop();
      // Both streams end once the server is closed.
      await follow.text().catch(() => "");
      await watch.text().catch(() => "");
      expect(aborted).toBe(1);
      expect(local.server.watchCount()).toBe(0);
    } finally {
      await local.stop();
    }
  });

  it("answers pods/log with 404 when there is no LogProvider", async () => {
    const core = sim.kc.makeApiClient(k8s.CoreV1Api);
    const err = await core.readNamespacedPodLog({ name: "x", namespace: "default" }).catch((e) => e);
    expect(codeOf(err)).toBe(404);
  });
});
