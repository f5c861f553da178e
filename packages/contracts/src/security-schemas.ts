// JSON Schemas of the security payloads Faro accepts over HTTP (Falco http_output, falcosidekick webhook), compiled with ajv.
import fs from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { ContractError } from "./errors.js";

const SCHEMA_DIR = path.join(import.meta.dirname, "..", "schema");

/** The payload formats with a schema: name → file under packages/contracts/schema. */
export const SECURITY_SCHEMAS = {
  "falco-alert": path.join(SCHEMA_DIR, "falco-alert.schema.json"),
  "falcosidekick-payload": path.join(SCHEMA_DIR, "falcosidekick-payload.schema.json"),
} as const;
export type SecuritySchemaName = keyof typeof SECURITY_SCHEMAS;

/** Falco's alert as both formats carry it (falcosidekick adds uuid and always sets source). */
export interface FalcoAlert {
  uuid?: string;
  output: string;
  priority: string;
  rule: string;
  time: string;
  source?: string;
  hostname?: string;
  tags?: string[] | null;
  output_fields?: Record<string, string | number | boolean | null | (string | number | boolean | null)[]>;
}

export type SecurityValidation<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** The parsed JSON Schema document of a format (for docs and tools). */
export function loadSecuritySchema(name: SecuritySchemaName): object {
  const file = SECURITY_SCHEMAS[name];
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as object;
  } catch (err) {
    throw new ContractError(`cannot load schema ${file}: ${(err as Error).message}`, { cause: err });
  }
}

const compiled = new Map<SecuritySchemaName, ValidateFunction>();

function describe(e: ErrorObject): string {
  const where = e.instancePath || "/";
  const extra =
    e.keyword === "enum"
      ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join("|")})`
      : e.keyword === "additionalProperties"
        ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})`
        : "";
  return `${where}: ${e.message ?? e.keyword}${extra}`;
}

/** Validates a parsed payload against the named schema; errors read like "/priority: must be equal to one of the allowed values (…)". */
export function validateSecurityPayload(name: "falco-alert" | "falcosidekick-payload", value: unknown): SecurityValidation<FalcoAlert>;
export function validateSecurityPayload(name: SecuritySchemaName, value: unknown): SecurityValidation<unknown> {
  let validate = compiled.get(name);
  if (!validate) {
    validate = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(loadSecuritySchema(name));
    compiled.set(name, validate);
  }
  if (validate(value)) return { ok: true, value };
  return { ok: false, errors: (validate.errors ?? []).map(describe) };
}
