import { describe, expect, it } from "vitest";
import { Registry } from "prom-client";
import { DLQ_HEADERS, deadLetterHeaders, headerSafe } from "./dead-letter.js";
import { busMetrics } from "./metrics.js";

describe("dead-letter headers", () => {
  it("flattens and bounds reasons for header values", () => {
    expect(headerSafe("line one\r\nline two")).toBe("line one line two");
    expect(headerSafe("x".repeat(2000)).length).toBe(1024);
    expect(headerSafe("  ")).toBe("unknown");
  });

  it("carries the reason and origin, keeps application headers, drops Nats-* ones", () => {
    const h = deadLetterHeaders(
      {
        stream: "S",
        seq: 7,
        subject: "a.b",
        data: new Uint8Array(),
        headers: new Map([
          ["Nats-Msg-Id", "orig"],
          ["Faro-Tenant", "t1"],
        ]),
        msgId: "orig",
        deliveryCount: 3,
      },
      "bad\nproto",
      "filter",
      "poison",
    );
    expect(h.get(DLQ_HEADERS.reason)).toBe("bad proto");
    expect(h.get(DLQ_HEADERS.service)).toBe("filter");
    expect(h.get(DLQ_HEADERS.originalSubject)).toBe("a.b");
    expect(h.get(DLQ_HEADERS.originalSeq)).toBe("7");
    expect(h.get(DLQ_HEADERS.originalMsgId)).toBe("orig");
    expect(h.get("Faro-Tenant")).toBe("t1");
    expect(h.has("Nats-Msg-Id")).toBe(false);
  });
});

describe("busMetrics", () => {
  it("registers once per registry and returns the same objects", () => {
    const r = new Registry();
    const a = busMetrics(r);
    const b = busMetrics(r);
    expect(b).toBe(a);
    expect(r.getMetricsAsArray().filter((m) => m.name === "faro_bus_connected")).toHaveLength(1);
    expect(busMetrics()).not.toBe(a);
  });
});
