// Label selectors of tenant rules (`kubectl -l` syntax or a `{key: value}` map, docs/patterns.md): the
// parser and matcher are @faro/primitives' (shared with the simulator); this names the rule in errors.
import { LabelSelectorError, compileLabelSelector as compileSelector, type LabelPredicate, type Labels } from "@faro/primitives";
import { RuleError } from "@faro/redact";

export type { LabelPredicate, Labels };

/**
 * Compiles a selector: the string syntax of `kubectl -l` (`k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, comma = AND) or a `{key: value}` map (all must be equal).
 * RuleError names `rule` when it is invalid.
 */
export function compileLabelSelector(rule: string, selector: string | Record<string, string>): LabelPredicate {
  if (typeof selector !== "string" && (selector === null || typeof selector !== "object" || Array.isArray(selector))) {
    throw new RuleError(rule, "labels must be a selector string or a map");
  }
  try {
    return compileSelector(selector);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw new RuleError(rule, err.message, { cause: err });
    throw err;
  }
}
