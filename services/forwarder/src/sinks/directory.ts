// Local-directory sink (an EFS or other shared volume): one bundle per incident revision, written atomically
// to `<path>/<cluster>/<namespace>/<incidentId>/<repeatCount>.json`; a revision already there is not rewritten.
import fs from "node:fs/promises";
import path from "node:path";
import { retryable } from "../errors.js";
import { deliveryJson, type Delivery } from "../incident.js";
import type { Sink, SinkContext } from "../sink.js";
import { bundleSegments } from "./bundle.js";

/** Where the bundle of a delivery goes (each path segment escaped into one safe token). */
export function bundlePath(root: string, d: Delivery): string {
  return path.join(root, ...bundleSegments(d));
}

export function createDirectorySink(ctx: SinkContext): Sink {
  const root = path.resolve(ctx.config.directory.path!);
  return {
    async start() {
      await fs.mkdir(root, { recursive: true });
      ctx.logger.info({ sink: ctx.name, dir: root }, "directory sink ready");
    },
    async deliver(d: Delivery) {
      const file = bundlePath(root, d);
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(tmp, JSON.stringify(deliveryJson(d), null, 2) + "\n");
        await fs.rename(tmp, file);
      } catch (err) {
        await fs.rm(tmp, { force: true }).catch(() => undefined);
        throw retryable(ctx.name, d.key, `writing ${file} failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { kind: "io" }, err);
      }
    },
    async stop() {},
  };
}
