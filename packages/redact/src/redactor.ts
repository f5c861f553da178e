// The Redactor: one compiled rule set applied to text, log lines, Kubernetes objects and Events.
import { RedactionError } from "./errors.js";
import { WalkError, redactValue } from "./object.js";
import { compileUserRules, type UserRule } from "./rules.js";
import { TextRedactor, type RuleHit } from "./text.js";
import { mask } from "./builtins.js";

export interface RedactorOptions {
  /** User rules; patterns are compiled with RE2. A bad rule throws RuleError. */
  rules?: readonly UserRule[];
  /** Built-in detectors (secret names, credential formats, Secrets). Default true. */
  builtins?: boolean;
}

export interface TextResult {
  text: string;
  hits: RuleHit[];
}
export interface LinesResult {
  lines: string[];
  hits: RuleHit[];
}
export interface ObjectResult<T> {
  object: T;
  hits: RuleHit[];
}

/**
 * Redacts messages. Every method either returns fully redacted output or throws RedactionError —
 * never partial output — so the caller can drop and dead-letter the message without its payload.
 */
export interface Redactor {
  redactText(text: string): TextResult;
  redactLogLine(line: string): TextResult;
  /** A batch of lines of ONE container: also masks PEM key blocks spanning lines within the batch. */
  redactLogLines(lines: readonly string[]): LinesResult;
  /** Deep copy of a Kubernetes object (or any JSON value) with secrets masked, keys kept. */
  redactObject<T>(object: T): ObjectResult<T>;
  /** Same as redactObject, for Kubernetes Events (message, annotations, involved object…). */
  redactEvent<T>(event: T): ObjectResult<T>;
}

const PEM_BEGIN = /-----BEGIN[A-Z ]{0,40} PRIVATE KEY(?: BLOCK)?-----/;
const PEM_END = /-----END[A-Z ]{0,40} PRIVATE KEY(?: BLOCK)?-----/;

/**
 * Builds a Redactor; throws RuleError (naming the rule) when a user rule does not compile. Build one
 * per configuration and reuse it: re2-wasm never frees a compiled pattern's wasm memory.
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  const tr = new TextRedactor(options.builtins ?? true, compileUserRules(options.rules ?? []));

  const text = (what: string, s: string): TextResult => {
    if (typeof s !== "string") throw new RedactionError(what, `expected a string, got ${typeof s}`);
    const hits: RuleHit[] = [];
    try {
      return { text: tr.redact(s, (rule) => hits.push({ rule })), hits };
    } catch (cause) {
      throw new RedactionError(what, cause instanceof Error ? cause.message : String(cause), { cause });
    }
  };

  const object = <T>(what: string, o: T): ObjectResult<T> => {
    const hits: RuleHit[] = [];
    try {
      return { object: redactValue(tr, o, hits) as T, hits };
    } catch (cause) {
      const msg = cause instanceof WalkError || cause instanceof Error ? cause.message : String(cause);
      throw new RedactionError(what, msg, { cause });
    }
  };

  return {
    redactText: (s) => text("text", s),
    redactLogLine: (s) => text("log line", s),
    redactLogLines(lines) {
      const hits: RuleHit[] = [];
      const out: string[] = new Array<string>(lines.length);
      let inPem = false;
      let fixed: string[];
      try {
        fixed = tr.redactLines(lines as string[], (rule) => hits.push({ rule }));
      } catch (cause) {
        throw new RedactionError("log lines", cause instanceof Error ? cause.message : String(cause), { cause });
      }
      try {
        for (let i = 0; i < lines.length; i++) {
          const line = lines[i];
          if (typeof line !== "string") throw new Error(`line ${i} is not a string`);
          if (inPem) {
            const end = PEM_END.exec(line);
            if (end === null) {
              out[i] = mask("pem-private-key");
              hits.push({ rule: "pem-private-key" });
              continue;
            }
            inPem = false;
            hits.push({ rule: "pem-private-key" });
            const rest = line.slice(end.index + end[0].length);
            out[i] = mask("pem-private-key") + tr.redact(rest, (rule) => hits.push({ rule }));
            continue;
          }
          out[i] = fixed[i]!;
          // A key block opened on this line and not closed on it continues on the next lines.
          const begin = PEM_BEGIN.exec(line);
          if (begin !== null && !PEM_END.test(line.slice(begin.index))) inPem = true;
        }
      } catch (cause) {
        throw new RedactionError("log lines", cause instanceof Error ? cause.message : String(cause), { cause });
      }
      return { lines: out, hits };
    },
    redactObject: (o) => object("object", o),
    redactEvent: (e) => object("event", e),
  };
}
