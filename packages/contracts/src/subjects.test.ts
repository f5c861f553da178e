// Escaping, building, parsing and filtering of faro.v1 subjects.
import { describe, expect, it } from "vitest";
import { SubjectError } from "./errors.js";
import {
  buildCleanSubject,
  buildControlSubject,
  buildDlqSubject,
  buildIncidentSubject,
  buildInsightSubject,
  buildRawSubject,
  buildStorySubject,
  cleanFilter,
  dlqFilter,
  escapeToken,
  incidentFilter,
  parseSubject,
  rawFilter,
  storyFilter,
  unescapeToken,
} from "./subjects.js";

const tricky = ["web", "a.b", "a*b", "a>b", "~", "~41", "_x", "x_y", "with space", "tab\there", "", "café", "名前", "😀", "a\u0000b", "$JS", "-", "_cluster"];

// A token NATS accepts: non-empty, no separators, wildcards or whitespace, printable ASCII.
const NATS_TOKEN = /^[!-)+-\-/-=?-~]+$/;

describe("escapeToken / unescapeToken", () => {
  it.each(tricky)("round-trips %j into one valid token", (value) => {
    const token = escapeToken(value);
    expect(token).toMatch(NATS_TOKEN);
    expect(token.startsWith("_")).toBe(false);
    expect(unescapeToken(token)).toBe(value);
  });

  it("escapes with documented, readable forms", () => {
    expect(escapeToken("deployments.apps")).toBe("deployments~2Eapps");
    expect(escapeToken("_x")).toBe("~5Fx");
    expect(escapeToken("x_y")).toBe("x_y");
    expect(escapeToken("")).toBe("~");
    expect(escapeToken("~")).toBe("~7E");
    expect(escapeToken("a b")).toBe("a~20b");
    expect(escapeToken("café")).toBe("caf~C3~A9");
    expect(escapeToken("名前")).toBe("~E5~90~8D~E5~89~8D");
    expect(escapeToken("web-7d9f")).toBe("web-7d9f");
  });

  it("gives distinct values distinct tokens", () => {
    const tokens = new Set(tricky.map(escapeToken));
    expect(tokens.size).toBe(tricky.length);
  });

  it.each([
    ["", "empty"],
    ["_cluster", "reserved"],
    ["a.b", "must be escaped"],
    ["a b", "must be escaped"],
    ["~2e", "bad escape"],
    ["~4", "bad escape"],
    ["a~ZZ", "bad escape"],
    ["~41", "needless escape"],
    ["~C3", "UTF-8"],
    ["é", "must be escaped"],
  ])("rejects non-canonical token %j", (token, why) => {
    expect(() => unescapeToken(token)).toThrow(SubjectError);
    expect(() => unescapeToken(token)).toThrow(why);
  });
});

describe("subject builders and parseSubject", () => {
  it("builds raw subjects with fixed token positions", () => {
    expect(buildRawSubject("prod", "shop", { category: "obj", resource: "deployments", group: "apps", name: "web" })).toBe(
      "faro.v1.raw.prod.shop.obj.deployments~2Eapps.web",
    );
    expect(buildRawSubject("prod", "", { category: "obj", resource: "nodes", group: "", name: "node-1.example" })).toBe(
      "faro.v1.raw.prod._cluster.obj.nodes.node-1~2Eexample",
    );
    expect(buildRawSubject("prod", "shop", { category: "event", kind: "Pod", name: "web-1" })).toBe("faro.v1.raw.prod.shop.event.Pod.web-1");
    expect(buildRawSubject("prod", "shop", { category: "log", pod: "web-1", container: "app" })).toBe("faro.v1.raw.prod.shop.log.web-1.app");
  });

  it.each(tricky)("round-trips every stage with %j in every position", (v) => {
    const obj = { category: "obj" as const, resource: "widgets", group: v === "" ? "" : `x.${v}`, name: v };
    const log = { category: "log" as const, pod: v, container: v };
    const ev = { category: "event" as const, kind: v, name: v };
    expect(parseSubject(buildRawSubject(v, v, obj))).toEqual({ stage: "raw", cluster: v, namespace: v, target: obj });
    expect(parseSubject(buildRawSubject(v, v, ev))).toEqual({ stage: "raw", cluster: v, namespace: v, target: ev });
    expect(parseSubject(buildCleanSubject(v, v, v, log))).toEqual({ stage: "clean", tenant: v, cluster: v, namespace: v, target: log });
    expect(parseSubject(buildStorySubject(v, v, v, v))).toEqual({ stage: "story", tenant: v, cluster: v, namespace: v, storyId: v });
    expect(parseSubject(buildIncidentSubject(v, v, v, v))).toEqual({ stage: "incident", tenant: v, cluster: v, namespace: v, reason: v });
    expect(parseSubject(buildInsightSubject(v, v, v, v))).toEqual({ stage: "insight", tenant: v, cluster: v, namespace: v, storyId: v });
    expect(parseSubject(buildDlqSubject(v, v))).toEqual({ stage: "dlq", service: v, failedStage: v });
    expect(parseSubject(buildControlSubject(v, v))).toEqual({ stage: "control", service: v, verb: v });
  });

  it("keeps the empty namespace (cluster-scoped) apart from a namespace named like the reserved token", () => {
    const a = buildStorySubject("t", "c", "", "s");
    const b = buildStorySubject("t", "c", "_cluster", "s");
    expect(a).not.toBe(b);
    expect(parseSubject(a)).toMatchObject({ namespace: "" });
    expect(parseSubject(b)).toMatchObject({ namespace: "_cluster" });
  });

  it.each([
    "",
    "faro",
    "faro.v2.raw.c.ns.obj.pods.x",
    "nats.v1.raw.c.ns.obj.pods.x",
    "faro.v1.bogus.a.b",
    "faro.v1.raw.c.ns.obj.pods",
    "faro.v1.raw.c.ns.obj.pods.x.y",
    "faro.v1.raw.c.ns.blob.pods.x",
    "faro.v1.raw.c.ns.obj.pods.*",
    "faro.v1.raw.c..obj.pods.x",
    "faro.v1.story.t.c.ns.s~zz",
    "faro.v1.incident.t.c.ns",
    "faro.v1.dlq.svc",
    "faro.v1.control.svc.verb.extra",
    "faro.v1.story.t.c._x.s",
  ])("rejects malformed subject %j", (subject) => {
    expect(() => parseSubject(subject)).toThrow(SubjectError);
  });

  it("names the whole subject in the error", () => {
    expect(() => parseSubject("faro.v1.story.t.c.ns.a~zz")).toThrow(/faro\.v1\.story\.t\.c\.ns\.a~zz/);
  });
});

describe("filters", () => {
  it("puts wildcards in the fixed positions", () => {
    expect(rawFilter()).toBe("faro.v1.raw.*.*.*.*.*");
    expect(rawFilter({ category: "obj", a: "pods" })).toBe("faro.v1.raw.*.*.obj.pods.*");
    expect(rawFilter({ category: "obj", a: "deployments.apps", namespace: "" })).toBe("faro.v1.raw.*._cluster.obj.deployments~2Eapps.*");
    expect(cleanFilter({ tenant: "team-a", category: "log" })).toBe("faro.v1.clean.team-a.*.*.log.*.*");
    expect(storyFilter({ namespace: "shop" })).toBe("faro.v1.story.*.*.shop.*");
    expect(incidentFilter({ namespace: "shop" })).toBe("faro.v1.incident.*.*.shop.*");
    expect(incidentFilter({ reason: "OOMKilled", cluster: "prod" })).toBe("faro.v1.incident.*.prod.*.OOMKilled");
    expect(dlqFilter({ service: "filter" })).toBe("faro.v1.dlq.filter.*");
  });

  it("matches the subjects it is meant to select", () => {
    const matches = (filter: string, subject: string) => {
      const f = filter.split(".");
      const s = subject.split(".");
      return f.length === s.length && f.every((t, i) => t === "*" || t === s[i]);
    };
    const s = buildIncidentSubject("team-a", "prod", "shop", "CrashLoopBackOff");
    expect(matches(incidentFilter({ namespace: "shop" }), s)).toBe(true);
    expect(matches(incidentFilter({ namespace: "shop2" }), s)).toBe(false);
    const p = buildRawSubject("prod", "shop", { category: "obj", resource: "pods", group: "", name: "web-1" });
    expect(matches(rawFilter({ category: "obj", a: "pods" }), p)).toBe(true);
    expect(matches(rawFilter({ category: "log" }), p)).toBe(false);
  });
});
