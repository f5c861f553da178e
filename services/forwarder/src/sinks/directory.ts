// Local-directory sink (an EFS or other shared volume): one bundle per incident revision (sinks/bundle.ts) in
// `<path>/<cluster>/<namespace>/<incidentId>/<repeatCount>/`, each file written atomically (temp + rename),
// `bundle.json` last; a redelivered revision rewrites its files with the story as it is then.
import fs from "node:fs/promises";
import path from "node:path";
import { DeliveryError, retryable } from "../errors.js";
import type { Delivery } from "../incident.js";
import type { Sink, SinkContext } from "../sink.js";
import { buildBundle, bundleSegments } from "./bundle.js";

/** The folder of a delivery's bundle (each path segment escaped into one safe token). */
export function bundlePath(root: string, d: Delivery): string {
  return path.join(root, ...bundleSegments(d));
}

export function createDirectorySink(ctx: SinkContext): Sink {
  const root = path.resolve(ctx.config.directory.path!);
  const source = { js: ctx.bus.js, jsm: ctx.bus.jsm, storyDir: ctx.config.bundle.storyDir, readTimeoutMs: ctx.config.bundle.readTimeout };
  return {
    async start() {
      await fs.mkdir(root, { recursive: true });
      ctx.logger.info({ sink: ctx.name, dir: root, storyDir: source.storyDir ?? "FARO_STORY" }, "directory sink ready");
    },
    async deliver(d: Delivery) {
      const files = await buildBundle(source, d);
      const dir = bundlePath(root, d);
      for (const f of files) {
        const file = path.join(dir, f.name);
        const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        try {
          await fs.mkdir(path.dirname(file), { recursive: true });
          await fs.writeFile(tmp, f.body);
          await fs.rename(tmp, file);
        } catch (err) {
          await fs.rm(tmp, { force: true }).catch(() => undefined);
          if (err instanceof DeliveryError) throw err;
          throw retryable(ctx.name, d.key, `writing ${file} failed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { kind: "io" }, err);
        }
      }
    },
    async stop() {},
  };
}
