// Shared setup of the filter's integration tests: config from YAML text, reading a stream back, polling.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { loadConfig } from "@faro/config";
import { configSchema, type FilterConfig } from "../src/config.js";
import { until } from "@faro/test-harness";

/** Loads a filter config from YAML text plus FARO_* variables (as main does, minus argv). */
export function filterConfig(yaml: string, env: Record<string, string>): FilterConfig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "faro-filter-test-"));
  const file = path.join(dir, "filter.yaml");
  fs.writeFileSync(file, yaml);
  return loadConfig(configSchema, { file, env: { FARO_CLUSTER: "c1", FARO_LOG_LEVEL: "warn", FARO_HTTP_PORT: "0", ...env } });
}

export interface Stored {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Map<string, string>;
}

/** Every message currently in a stream (empty when it does not exist yet). */
export async function readStream(nc: NatsConnection, stream: string, jsm?: JetStreamManager): Promise<Stored[]> {
  const m = jsm ?? (await jetstreamManager(nc));
  let info;
  try {
    info = await m.streams.info(stream);
  } catch {
    return []; // not provisioned yet: nothing stored
  }
  const out: Stored[] = [];
  if (info.state.messages === 0) return out;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const msg = await m.streams.getMessage(stream, { seq });
    if (!msg) continue;
    const headers = new Map<string, string>();
    for (const k of msg.header?.keys() ?? []) headers.set(k, msg.header!.get(k));
    out.push({ seq, subject: msg.subject, data: msg.data, headers });
  }
  return out;
}

export { until };

/** Searches raw bytes for a string (UTF-8): a secret must not appear anywhere in a stored message. */
export function bytesContain(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle, "utf8"));
}
