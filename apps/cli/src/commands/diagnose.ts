// `faro diagnose [FILE|-]…`: classifies saved Kubernetes objects offline with the correlator's detection code.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { parseAllDocuments } from "yaml";
import { diagnose, type Diagnosis, type Finding } from "@faro/correlator";
import type { Command } from "../command.js";
import { UsageError } from "../errors.js";

export interface DiagnoseStreams {
  stdin: NodeJS.ReadableStream;
}

/** Input that is not JSON, YAML or Kubernetes objects: exit 2. */
export class DiagnoseInputError extends Error {
  constructor(
    message: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
    this.name = "DiagnoseInputError";
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * JSON values one after another (`kubectl get -w -o json` prints pretty objects back to back, JSON lines
 * are the same with newlines): split on the top-level value boundaries, strings respected.
 */
export function splitJsonValues(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === "{" || ch === "[") {
      if (depth === 0) start = i;
      depth++;
    } else if (ch === "}" || ch === "]") {
      depth--;
      if (depth < 0) throw new DiagnoseInputError(`unbalanced "${ch}" at offset ${i}`, source);
      if (depth === 0) {
        const chunk = text.slice(start, i + 1);
        try {
          out.push(JSON.parse(chunk));
        } catch (err) {
          throw new DiagnoseInputError(`invalid JSON at offset ${start}: ${(err as Error).message}`, source, { cause: err });
        }
      }
    } else if (depth === 0 && !/\s/.test(ch)) {
      throw new DiagnoseInputError(`unexpected "${ch}" at offset ${i} between JSON values`, source);
    }
  }
  if (depth !== 0) throw new DiagnoseInputError("input ends inside a JSON value", source);
  return out;
}

/** JSON (one value, an array, or a stream of values) or YAML (several documents allowed). */
export function parseDocuments(text: string, source: string): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed === "") return [];
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const values = splitJsonValues(text, source);
    return values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  }
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw new DiagnoseInputError(`invalid YAML: ${d.errors[0]!.message.split("\n")[0]}`, source);
    const v = d.toJS() as unknown;
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + " ".repeat(n - s.length);
}

/** The findings as an aligned table, one line each, followed by their evidence indented. */
export function formatTable(d: Diagnosis, verbose: boolean): string[] {
  if (d.findings.length === 0) return [`healthy: no failure in ${d.versions} object version${d.versions === 1 ? "" : "s"} (now ${d.now})`];
  const rows = d.findings.map((f) => [
    f.severity.toUpperCase(),
    f.reason,
    `${f.namespace ? `${f.namespace}/` : ""}${f.object}`,
    f.container ? `${f.container}${f.containerType && f.containerType !== "regular" ? ` (${f.containerType})` : ""}` : "-",
    f.time,
    f.afterTheFact ? "before" : f.count > 1 ? `×${f.count}` : "seen",
    f.message,
  ]);
  const head = ["SEVERITY", "KIND", "OBJECT", "CONTAINER", "TIME", "SEEN", "MESSAGE"];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => r[i]!.length))));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join("  ").trimEnd();
  const out = [line(head)];
  d.findings.forEach((f: Finding, i) => {
    out.push(line(rows[i]!));
    if (verbose) {
      for (const e of f.evidence) out.push(`    ${e.source} ${e.field || e.object}${e.reason ? ` ${e.reason}` : ""}${e.value ? ` [${e.value}]` : ""}${e.time ? ` at ${e.time}` : ""}${e.message ? `: ${e.message}` : ""}`);
      if (f.affectedPods.length) out.push(`    affects ${f.affectedPods.map((p) => `${p.namespace}/${p.name}`).join(", ")}`);
    }
  });
  out.push(`${d.findings.length} failure${d.findings.length === 1 ? "" : "s"} in ${d.versions} object version${d.versions === 1 ? "" : "s"} (now ${d.now}; SEEN "before": already in the status when first read)`);
  return out;
}

/** Keys sorted at every level: the same input always prints the same bytes. */
export function canonicalJson(v: unknown): string {
  const sort = (x: unknown): unknown =>
    Array.isArray(x) ? x.map(sort) : x !== null && typeof x === "object" ? Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, sort((x as Record<string, unknown>)[k])])) : x;
  return JSON.stringify(sort(v));
}

export function createDiagnoseCommand(streams: () => DiagnoseStreams = () => ({ stdin: process.stdin })): Command {
  const cmd: Command = {
    name: "diagnose",
    summary: "classify saved Kubernetes objects (Pod, List, multi-document YAML, `kubectl get -w -o json`) offline",
    usage: "faro diagnose [FILE|-]… [--now RFC3339] [--json] [--evidence]   (exit 0 healthy, 1 failures found, 2 bad input)",
    async run(args, io) {
      let values: Record<string, string | boolean | undefined>;
      let positionals: string[];
      try {
        ({ values, positionals } = parseArgs({ args, options: { now: { type: "string" }, json: { type: "boolean" }, evidence: { type: "boolean" }, help: { type: "boolean" } }, strict: true, allowPositionals: true }) as {
          values: Record<string, string | boolean | undefined>;
          positionals: string[];
        });
      } catch (err) {
        throw new UsageError((err as Error).message, "diagnose", { cause: err });
      }
      if (values["help"]) {
        io.out(`usage: ${cmd.usage}`);
        io.out("  FILE     JSON or YAML: a Pod (any object), a List, several documents, or a watch stream (`kubectl get pods -w -o json`); - or none: stdin");
        io.out("  --now    source time for the time-based checks (stuck Pending/Terminating); default: the newest time in the input");
        io.out("  --json   one canonical JSON document (keys sorted) instead of the table");
        io.out("  --evidence  print each finding's evidence under it in the table");
        return 0;
      }
      let nowMs: number | undefined;
      if (values["now"] !== undefined) {
        nowMs = Date.parse(String(values["now"]));
        if (!/^\d{4}-\d{2}-\d{2}T/.test(String(values["now"])) || Number.isNaN(nowMs)) throw new UsageError(`--now must be an RFC3339 time (2026-01-01T12:00:00Z), got "${String(values["now"])}"`, "diagnose");
      }
      const sources = positionals.length ? positionals : ["-"];
      const docs: unknown[] = [];
      try {
        for (const src of sources) {
          let text: string;
          if (src === "-") text = await readAll(streams().stdin);
          else {
            try {
              text = fs.readFileSync(src, "utf8");
            } catch (err) {
              throw new DiagnoseInputError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, src, { cause: err });
            }
          }
          docs.push(...parseDocuments(text, src === "-" ? "stdin" : src));
        }
      } catch (err) {
        if (err instanceof DiagnoseInputError) {
          io.err(`faro diagnose: ${err.message}`);
          return 2;
        }
        throw err;
      }
      const result = diagnose(docs, nowMs !== undefined ? { nowMs } : {});
      if (result.rejected.length || result.versions === 0) {
        io.err(`faro diagnose: ${result.rejected[0] ?? "no Kubernetes object in the input"}${result.rejected.length > 1 ? ` (and ${result.rejected.length - 1} more)` : ""}`);
        return 2;
      }
      const { rejected: _rejected, ...report } = result;
      if (values["json"]) io.out(canonicalJson(report));
      else for (const line of formatTable(report, Boolean(values["evidence"]))) io.out(line);
      return report.findings.length ? 1 : 0;
    },
  };
  return cmd;
}

export const diagnoseCommand: Command = createDiagnoseCommand();
