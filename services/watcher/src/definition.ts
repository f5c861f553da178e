// The watcher's service definition: what `faro run watcher`, `faro up` and the tests start through the kernel.
import { ConfigError, type ConfigIssue } from "@faro/config";
import { FARO_DLQ, FARO_RAW } from "@faro/contracts";
import { defineService } from "@faro/kernel";
import { PatternError, compileNamePattern } from "@faro/primitives";
import { configSchema, type WatcherConfig } from "./config.js";
import { createWatcher } from "./service.js";

export const watcherService = defineService({
  name: "watcher",
  summary: "publishes every resource change and Kubernetes Event to FARO_RAW (acked state in Redis: restart without replay)",
  schema: configSchema,
  // FARO_DLQ: changes that cannot be encoded are dead-lettered (stage `encode`).
  streams: [FARO_RAW, FARO_DLQ],
  redis: true,
  validate: validateNamespacePatterns,
  create: (ctx) => createWatcher(ctx),
});

/** Every namespace pattern must compile (docs/patterns.md): a bad one exits 2 naming its field. */
function validateNamespacePatterns(config: WatcherConfig): void {
  const issues: ConfigIssue[] = [];
  const check = (path: string, patterns: readonly string[]) =>
    patterns.forEach((p, i) => {
      try {
        compileNamePattern(p);
      } catch (err) {
        if (!(err instanceof PatternError)) throw err;
        issues.push({ path: `${path}[${i}]`, message: err.message });
      }
    });
  check("namespaces.include", config.namespaces.include);
  check("namespaces.exclude", config.namespaces.exclude);
  config.scopes.forEach((s, i) => {
    check(`scopes[${i}].namespaces`, s.namespaces);
    check(`scopes[${i}].excludeNamespaces`, s.excludeNamespaces);
  });
  if (issues.length > 0) throw new ConfigError("watcher", issues);
}
