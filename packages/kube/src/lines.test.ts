// Unit tests of byte-level line splitting and log timestamp parsing.
import { describe, expect, it } from "vitest";
import { LineSplitter, decodeLogLine, parseLogLine, textBytes } from "./lines.js";

function split(chunks: Buffer[], max?: number): { text: string; truncated: boolean }[] {
  const s = new LineSplitter(max);
  const out: { text: string; truncated: boolean }[] = [];
  const push = (b: Buffer, truncated: boolean) => out.push({ text: b.toString("utf8"), truncated });
  for (const c of chunks) s.push(c, push);
  s.end(push);
  return out;
}

describe("LineSplitter", () => {
  it("joins lines cut across chunks and handles CRLF and a final line without newline", () => {
    const out = split([Buffer.from("ab"), Buffer.from("c\r\nde"), Buffer.from("f\n\ng"), Buffer.from("h")]);
    expect(out.map((l) => l.text)).toEqual(["abc", "def", "", "gh"]);
  });

  it("keeps UTF-8 sequences split across chunks intact, byte by byte", () => {
    const text = "héllo €uro 😀 ok\nzwei ü\n";
    const bytes = Buffer.from(text, "utf8");
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(split(chunks).map((l) => l.text)).toEqual(["héllo €uro 😀 ok", "zwei ü"]);
  });

  it("does not reuse caller memory for partial lines", () => {
    const buf = Buffer.from("abc");
    const s = new LineSplitter();
    const out: string[] = [];
    s.push(buf, (b) => out.push(b.toString()));
    buf.write("xyz");
    s.push(Buffer.from("\n"), (b) => out.push(b.toString()));
    expect(out).toEqual(["abc"]);
  });

  it("cuts overlong lines, flags them and resumes at the next newline", () => {
    const out = split([Buffer.from("0123456789"), Buffer.from("abcdef\nshort\n")], 4);
    expect(out).toEqual([
      { text: "0123", truncated: true },
      { text: "shor", truncated: true },
    ]);
    const out2 = split([Buffer.from("ab\n123456789\nxy\n")], 4);
    expect(out2).toEqual([
      { text: "ab", truncated: false },
      { text: "1234", truncated: true },
      { text: "xy", truncated: false },
    ]);
  });
});

describe("the size of a cut line", () => {
  it("is the whole line's, counted across chunks, CRLF excluded, and the cut head is emitted once the line ends", () => {
    const s = new LineSplitter(8);
    const out: { text: string; bytes: number | undefined }[] = [];
    const push = (b: Buffer, _t: boolean, bytes?: number) => out.push({ text: b.toString(), bytes });
    const big = "x".repeat(5_000);
    s.push(Buffer.from("2024-05-01T10:00:00Z " + big.slice(0, 1000)), push);
    expect(out).toEqual([]); // the end of the line is not read yet
    s.push(Buffer.from(big.slice(1000)), push);
    s.push(Buffer.from("\r"), push);
    s.push(Buffer.from("\nok\n"), push);
    s.end(push);
    expect(out).toEqual([
      { text: "2024-05-", bytes: 21 + 5_000 },
      { text: "ok", bytes: undefined },
    ]);
  });

  it("gives the text's own size after the timestamp prefix", () => {
    const s = new LineSplitter(40);
    let got: ReturnType<typeof decodeLogLine> | undefined;
    s.push(Buffer.from(`2024-05-01T10:00:00.123456789Z ${"é".repeat(3_000)}\n`), (b, t, n) => (got = decodeLogLine(b, t, true, n)));
    expect(got?.timestamp).toBe("2024-05-01T10:00:00.123456789Z");
    expect(got?.truncated).toBe(true);
    expect(textBytes(got!)).toBe(6_000);
  });

  it("counts a line still open at the end of the stream", () => {
    const s = new LineSplitter(4);
    const out: number[] = [];
    s.push(Buffer.from("0123456789"), () => undefined);
    s.end((_b, _t, n) => out.push(n ?? -1));
    expect(out).toEqual([10]);
  });
});

describe("log line parsing", () => {
  it("parses the RFC3339Nano prefix", () => {
    expect(parseLogLine("2024-05-01T10:00:00.123456789Z hello world")).toEqual({
      timestamp: "2024-05-01T10:00:00.123456789Z",
      text: "hello world",
    });
    expect(parseLogLine("2024-05-01T10:00:00.123456789Z ")).toEqual({ timestamp: "2024-05-01T10:00:00.123456789Z", text: "" });
    expect(parseLogLine("2024-05-01T10:00:00.123456789Z")).toEqual({ timestamp: "2024-05-01T10:00:00.123456789Z", text: "" });
  });

  it("keeps lines without a timestamp whole", () => {
    expect(parseLogLine("no timestamp here")).toEqual({ timestamp: undefined, text: "no timestamp here" });
    expect(parseLogLine("2024-05-01 not rfc3339")).toEqual({ timestamp: undefined, text: "2024-05-01 not rfc3339" });
  });

  it("replaces invalid UTF-8 with U+FFFD instead of throwing", () => {
    const bad = Buffer.concat([Buffer.from("2024-05-01T10:00:00.000000001Z a"), Buffer.from([0xff, 0xc3]), Buffer.from("b")]);
    expect(decodeLogLine(bad)).toEqual({ timestamp: "2024-05-01T10:00:00.000000001Z", text: "a\uFFFD\uFFFDb" });
  });
});
