// What a built-in analyzer is: a name and a pure function from an incident to a finding (or nothing).
import type { Finding } from "@faro/contracts";
import type { BuiltinName } from "../config.js";
import type { IncidentView } from "../view.js";

export interface BuiltinAnalyzer {
  readonly name: BuiltinName;
  /** A finding when the incident is of the kind this analyzer knows; undefined otherwise. Pure and deterministic. */
  analyze(view: IncidentView): Finding | undefined;
}

/** The analyzer label of a built-in: `builtin:<name>`. */
export const builtinLabel = (name: string): string => `builtin:${name}`;
