import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, parseBytes, parseDuration } from "./units.js";

describe("durations", () => {
  it("parses units and combinations into milliseconds", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("0")).toBe(0);
  });
  it("rejects bare numbers and unknown units", () => {
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("5sec")).toBeUndefined();
    expect(parseDuration("")).toBeUndefined();
  });
  it("formats back", () => {
    expect(formatDuration(10_000)).toBe("10s");
    expect(formatDuration(250)).toBe("250ms");
  });
});

describe("byte sizes", () => {
  it("parses decimal and binary units", () => {
    expect(parseBytes("16KiB")).toBe(16_384);
    expect(parseBytes("1MiB")).toBe(1_048_576);
    expect(parseBytes("1MB")).toBe(1_000_000);
    expect(parseBytes("512")).toBe(512);
    expect(parseBytes("1.5 KiB")).toBe(1536);
  });
  it("rejects garbage", () => {
    expect(parseBytes("16XB")).toBeUndefined();
    expect(parseBytes("lots")).toBeUndefined();
  });
  it("formats back", () => expect(formatBytes(16_384)).toBe("16KiB"));
});
