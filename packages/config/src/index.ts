// @faro/config: typed config schemas, layered loading (defaults < YAML < FARO_* env < flags) and generated docs.
export { ConfigError, SchemaError, describeSource, formatIssue } from "./errors.js";
export type { ConfigIssue, ConfigSource } from "./errors.js";
export { field, describeField, formatPath, closest } from "./schema.js";
export type { Field, FieldKind, Fields, ValueOf, ValuesOf } from "./schema.js";
export { defineSchema, commonSchema, envNameOf, flagNameOf, kebabFlagNameOf, leavesOf } from "./define.js";
export type { Schema, ConfigOf, CommonFields, Leaf } from "./define.js";
export { loadConfig, loadConfigOrExit, exitOnConfigError } from "./load.js";
export type { LoadOptions } from "./load.js";
export { renderConfigDocs } from "./docs.js";
export { parseDuration, parseBytes, formatDuration, formatBytes } from "./units.js";
