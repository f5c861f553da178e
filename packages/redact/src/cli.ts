// The core of `faro redact`: redacts JSON, YAML or text input so users can try their rules.
import fs from "node:fs";
import YAML from "yaml";
import { RedactCliError, RuleError } from "./errors.js";
import { createRedactor } from "./redactor.js";
import type { UserRule } from "./rules.js";

export type RedactFormat = "json" | "yaml" | "text";

export interface RedactCliOptions {
  format: RedactFormat;
  /** Path of a YAML (or JSON) rules file: `rules: [{name, pattern?, keys?, ignoreCase?}]` or a bare list. */
  rulesFile?: string;
}

/** Parses the text of a rules file. Throws RuleError when the shape is wrong. */
export function parseRules(text: string, source = "rules file"): UserRule[] {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (cause) {
    throw new RuleError(source, `cannot parse: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (doc === null || doc === undefined) return [];
  const list = Array.isArray(doc) ? doc : (doc as { rules?: unknown }).rules;
  if (!Array.isArray(list)) throw new RuleError(source, "expected a list of rules or an object with `rules:`");
  return list as UserRule[];
}

/** Reads and parses a rules file; RedactCliError when unreadable, RuleError when invalid. */
export function loadRulesFile(path: string): UserRule[] {
  let text: string;
  try {
    text = fs.readFileSync(path, "utf8");
  } catch (cause) {
    throw new RedactCliError("rules", `cannot read rules file ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseRules(text, path);
}

/**
 * Redacts `input` and returns the output text. JSON input is one document or JSON lines; YAML may
 * hold several documents. Unparsable input throws RedactCliError (the CLI exits 2), a bad rule RuleError.
 */
export function redactCli(input: string, options: RedactCliOptions): string {
  const rules = options.rulesFile === undefined ? [] : loadRulesFile(options.rulesFile);
  const redactor = createRedactor({ rules });
  switch (options.format) {
    case "text": {
      const trailing = input.endsWith("\n");
      const lines = (trailing ? input.slice(0, -1) : input).split("\n");
      return redactor.redactLogLines(lines).lines.join("\n") + (trailing ? "\n" : "");
    }
    case "json": {
      let docs: unknown[];
      try {
        docs = [JSON.parse(input)];
      } catch (first) {
        const lines = input.split("\n").filter((l) => l.trim() !== "");
        try {
          docs = lines.map((l) => JSON.parse(l) as unknown);
        } catch {
          throw new RedactCliError("json", `input is not JSON: ${(first as Error).message}`, { cause: first });
        }
        if (lines.length < 2) throw new RedactCliError("json", `input is not JSON: ${(first as Error).message}`, { cause: first });
        return docs.map((d) => JSON.stringify(redactor.redactObject(d).object)).join("\n") + "\n";
      }
      return JSON.stringify(redactor.redactObject(docs[0]).object, null, 2) + "\n";
    }
    case "yaml": {
      const docs = YAML.parseAllDocuments(input);
      for (const d of docs) {
        if (d.errors.length > 0) throw new RedactCliError("yaml", `input is not YAML: ${d.errors[0]!.message}`, { cause: d.errors[0] });
      }
      return docs.map((d) => YAML.stringify(redactor.redactObject(d.toJS()).object)).join("---\n");
    }
    default:
      throw new RedactCliError(String(options.format), `unknown format ${JSON.stringify(options.format)} (json, yaml or text)`);
  }
}
