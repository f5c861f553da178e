import { describe, expect, it } from "vitest";
import { CommitLog, decodeRemembered, encodeRemembered } from "./state.js";

const v = (rv: string) => ({ resourceVersion: rv, name: "n", namespace: "ns" });

describe("remembered values", () => {
  it("round-trip, with and without the Event's involved identity", () => {
    expect(decodeRemembered(encodeRemembered(v("12")))).toEqual(v("12"));
    expect(decodeRemembered(encodeRemembered({ resourceVersion: "5", name: "e", namespace: "", extra: ["Node", "n1"] }))).toEqual({ resourceVersion: "5", name: "e", namespace: "", extra: ["Node", "n1"] });
  });

  it("round-trip an object's labels, slashes included, and read values written before labels were kept", () => {
    const labelled = { ...v("7"), labels: JSON.stringify({ "app.kubernetes.io/name": "web", path: "/a/b" }) };
    expect(decodeRemembered(encodeRemembered(labelled))).toEqual(labelled);
    expect(decodeRemembered("7/ns/n")).toEqual(v("7"));
    expect(decodeRemembered("7")).toEqual({ resourceVersion: "7", namespace: "", name: "" });
    // What a reader that predates labels does with the value: rv, namespace and name still come first.
    const [rv, ns, name] = encodeRemembered(labelled).split("/");
    expect([rv, ns, name]).toEqual(["7", "ns", "n"]);
  });
});

describe("CommitLog", () => {
  it("commits in watch order: an ack that overtakes an earlier publish waits for it", () => {
    const log = new CommitLog();
    const a = log.push("a", v("1"), "1");
    const b = log.push("b", v("2"), "2");
    log.done(b);
    expect(log.pending.size).toBe(0);
    log.done(a);
    expect([...log.drain().keys()]).toEqual(["a", "b"]);
    expect(log.size).toBe(0);
  });

  it("keeps the latest state per uid and a deletion as null with its rv", () => {
    const log = new CommitLog();
    log.done(log.push("a", v("1"), "1"));
    log.done(log.push("a", v("3"), "3"));
    log.done(log.push("b", null, "4"));
    expect(log.drain()).toEqual(new Map([["a", { rv: "3", value: v("3") }], ["b", { rv: "4", value: null }]]));
  });

  it("stops committing once blocked (the watch restarts from what was written)", () => {
    const log = new CommitLog();
    const a = log.push("a", v("1"), "1");
    log.block();
    log.done(a);
    expect(log.pending.size).toBe(0);
  });

  it("restores a failed write without overwriting newer commits", () => {
    const log = new CommitLog();
    log.done(log.push("a", v("1"), "1"));
    const batch = log.drain();
    log.done(log.push("a", v("2"), "2"));
    log.restore(batch);
    expect(log.drain().get("a")?.rv).toBe("2");
  });

  it("stays compact over many entries", () => {
    const log = new CommitLog();
    for (let i = 0; i < 10_000; i++) log.done(log.push(`u${i % 10}`, v(String(i)), String(i)));
    expect(log.size).toBe(0);
    expect(log.drain().size).toBe(10);
  });
});
