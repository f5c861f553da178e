// Dead-letter headers: the reason, the service and the origin of a message the DeadLetter envelope carries.
import { headers as natsHeaders, type MsgHdrs } from "@nats-io/transport-node";

export const DLQ_HEADERS = {
  reason: "Faro-Dlq-Reason",
  service: "Faro-Dlq-Service",
  originalSubject: "Faro-Original-Subject",
  originalStream: "Faro-Original-Stream",
  originalSeq: "Faro-Original-Seq",
  originalMsgId: "Faro-Original-Msg-Id",
  deliveries: "Faro-Dlq-Deliveries",
  kind: "Faro-Dlq-Kind",
} as const;

/** Why a message was dead-lettered: the handler said poison, or the server gave up after max_deliver. */
export type DeadLetterKind = "poison" | "max_deliveries";

/** What is known about a message being dead-lettered, whichever path (handler or advisory) found it. */
export interface DeadLetterSource {
  stream: string;
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: ReadonlyMap<string, string>;
  msgId: string | undefined;
  deliveryCount: number;
}

/** Header values must be one line; reasons come from error messages, so flatten and bound them. */
export function headerSafe(v: string, max = 1024): string {
  const flat = v.replace(/[\r\n]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat || "unknown";
}

export function deadLetterHeaders(msg: DeadLetterSource, reason: string, service: string, kind: DeadLetterKind): MsgHdrs {
  const h = natsHeaders();
  // Keep the application's own headers for replay; the Nats-* ones belong to the original publish.
  for (const [k, v] of msg.headers) {
    if (!k.toLowerCase().startsWith("nats-")) h.set(k, v);
  }
  h.set(DLQ_HEADERS.reason, headerSafe(reason));
  h.set(DLQ_HEADERS.service, headerSafe(service));
  h.set(DLQ_HEADERS.kind, kind);
  h.set(DLQ_HEADERS.originalSubject, msg.subject);
  h.set(DLQ_HEADERS.originalStream, msg.stream);
  h.set(DLQ_HEADERS.originalSeq, String(msg.seq));
  h.set(DLQ_HEADERS.deliveries, String(msg.deliveryCount));
  if (msg.msgId) h.set(DLQ_HEADERS.originalMsgId, headerSafe(msg.msgId));
  return h;
}

/** Flattens NATS headers into a map (first value of each key). */
export function headerMap(h: MsgHdrs | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!h) return out;
  for (const k of h.keys()) out.set(k, h.get(k));
  return out;
}
