// Secrets (tokens, signing keys) from a file or an environment variable: read when a sink starts, never logged,
// never put into an error message.
import fs from "node:fs/promises";
import { SecretError } from "./errors.js";

export interface SecretSource {
  readonly file?: string | undefined;
  readonly env?: string | undefined;
}

/** The secret's value, or undefined when neither source is configured. */
export async function readSecret(sink: string, field: string, s: SecretSource, env: Readonly<Record<string, string | undefined>>): Promise<string | undefined> {
  if (s.file !== undefined) {
    let text: string;
    try {
      text = await fs.readFile(s.file, "utf8");
    } catch (err) {
      throw new SecretError(sink, `${field}.file`, `cannot read ${s.file} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
    const v = text.trim();
    if (v === "") throw new SecretError(sink, `${field}.file`, `${s.file} is empty`);
    return v;
  }
  if (s.env !== undefined) {
    const v = env[s.env]?.trim();
    if (!v) throw new SecretError(sink, `${field}.env`, `environment variable ${s.env} is not set or empty`);
    return v;
  }
  return undefined;
}
