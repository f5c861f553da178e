// JetStream stream definitions of the bus as plain data; @faro/bus provisions them (no NATS import here).
import { SUBJECT_PREFIX } from "./subjects.js";

export interface StreamDefinition {
  name: string;
  subjects: string[];
  description: string;
  /** 0 = unlimited. */
  maxAgeMs: number;
  /** -1 = unlimited. */
  maxBytes: number;
  /** Largest accepted message; log batches and incident contexts are the big ones. */
  maxMsgSize: number;
  /** Window in which a repeated Nats-Msg-Id is dropped by the server. */
  duplicateWindowMs: number;
  storage: "file" | "memory";
  retention: "limits";
  discard: "old";
  replicas: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

// Two minutes covers publisher retries and a replica taking over a lease; JetStream's own default.
const DUPLICATE_WINDOW_MS = 2 * MIN;

function stream(name: string, stage: string, description: string, maxAgeMs: number, maxBytes: number): StreamDefinition {
  return {
    name,
    subjects: [`${SUBJECT_PREFIX}.${stage}.>`],
    description,
    maxAgeMs,
    maxBytes,
    maxMsgSize: 8 * MiB,
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
    storage: "file",
    retention: "limits",
    discard: "old",
    replicas: 1,
  };
}

// Raw and clean are short-lived working sets (replay window); stories and incidents are the product and kept longer.
export const FARO_RAW = stream("FARO_RAW", "raw", "Unfiltered resource changes, events and log batches from the watcher and log-streamer", DAY, 8 * GiB);
export const FARO_CLEAN = stream("FARO_CLEAN", "clean", "Tenant-assigned, filtered and redacted changes, events and logs", DAY, 8 * GiB);
export const FARO_STORY = stream("FARO_STORY", "story", "Story entries per workload, from the correlator", 7 * DAY, 8 * GiB);
export const FARO_INCIDENT = stream("FARO_INCIDENT", "incident", "Incident contexts, from the correlator", 30 * DAY, 2 * GiB);
export const FARO_INSIGHT = stream("FARO_INSIGHT", "insight", "Insights: the analyzer's probable cause of each incident revision", 30 * DAY, 1 * GiB);
export const FARO_DLQ = stream("FARO_DLQ", "dlq", "Dead letters: messages a service gave up on, with the reason", 14 * DAY, 1 * GiB);

/** All streams, in pipeline order. Control subjects are core NATS (request/reply) and have no stream. */
export const STREAMS: readonly StreamDefinition[] = [FARO_RAW, FARO_CLEAN, FARO_STORY, FARO_INCIDENT, FARO_INSIGHT, FARO_DLQ];
