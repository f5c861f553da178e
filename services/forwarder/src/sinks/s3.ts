// Object storage sink: one bundle per incident revision (sinks/bundle.ts: incident.json, story.json, logs/…,
// bundle.json last) in any S3-compatible store through the AWS SDK for JavaScript v3, at
// `<prefix><cluster>/<namespace>/<incidentId>/<repeatCount>/<file>`, every object with the configured server-side
// encryption. A redelivered revision overwrites its own objects.
import { PutObjectCommand, S3Client, S3ServiceException, type PutObjectCommandInput } from "@aws-sdk/client-s3";
import { DeliveryError, permanent, retryable } from "../errors.js";
import type { Delivery } from "../incident.js";
import { readSecret } from "../secrets.js";
import type { Sink, SinkContext } from "../sink.js";
import { buildBundle, bundleSegments } from "./bundle.js";

/** The key of one file of a delivery's bundle. */
export function objectKey(prefix: string, d: Delivery, file: string): string {
  return `${prefix}${bundleSegments(d).join("/")}/${file}`;
}

/** S3 error codes that are about this request or its credentials, never fixed by retrying. */
const PERMANENT_CODES = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket", "InvalidBucketName", "KMS.NotFoundException", "InvalidArgument"]);

function classify(sink: string, key: string, err: unknown): DeliveryError {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode ?? 0;
    const detail = `S3 ${err.name}${status ? ` (HTTP ${status})` : ""}`;
    if (PERMANENT_CODES.has(err.name) || (status >= 400 && status < 500 && status !== 408 && status !== 429)) return permanent(sink, key, detail, { status: err.name }, err);
    return retryable(sink, key, detail, { status: err.name }, err);
  }
  const code = (err as { code?: string }).code ?? (err as Error).name;
  return retryable(sink, key, `S3 request failed (${code})`, { kind: "network" }, err);
}

export function createS3Sink(ctx: SinkContext): Sink {
  const cfg = ctx.config.s3;
  let client: S3Client | undefined;
  const source = { js: ctx.bus.js, jsm: ctx.bus.jsm, storyDir: ctx.config.bundle.storyDir, readTimeoutMs: ctx.config.bundle.readTimeout };
  return {
    async start() {
      const accessKeyId = await readSecret(ctx.name, "s3.accessKeyId", cfg.accessKeyId, ctx.env);
      const secretAccessKey = await readSecret(ctx.name, "s3.secretAccessKey", cfg.secretAccessKey, ctx.env);
      client = new S3Client({
        region: cfg.region,
        forcePathStyle: cfg.forcePathStyle,
        // The sink runner retries (with backoff, Retry-After and dead letters); one SDK attempt per delivery attempt.
        maxAttempts: 1,
        ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}),
        ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey } } : {}),
      });
      ctx.logger.info({ sink: ctx.name, bucket: cfg.bucket, prefix: cfg.prefix, endpoint: cfg.endpoint ?? "aws", sse: cfg.serverSideEncryption }, "s3 sink ready");
    },
    async deliver(d: Delivery, signal: AbortSignal) {
      const files = await buildBundle(source, d);
      const timeout = AbortSignal.timeout(ctx.config.timeout);
      for (const f of files) {
        const input: PutObjectCommandInput = {
          Bucket: cfg.bucket!,
          Key: objectKey(cfg.prefix, d, f.name),
          Body: f.body,
          ContentType: f.contentType,
          Metadata: { "idempotency-key": d.key, "incident-id": d.incident.incidentId, "repeat-count": String(d.incident.repeatCount) },
          ...(cfg.serverSideEncryption !== "none" ? { ServerSideEncryption: cfg.serverSideEncryption } : {}),
          ...(cfg.kmsKeyId ? { SSEKMSKeyId: cfg.kmsKeyId } : {}),
        };
        try {
          await client!.send(new PutObjectCommand(input), { abortSignal: AbortSignal.any([timeout, signal]) });
        } catch (err) {
          if (timeout.aborted) throw retryable(ctx.name, d.key, `no response within ${ctx.config.timeout}ms`, { kind: "timeout" });
          throw classify(ctx.name, d.key, err);
        }
      }
    },
    async stop() {
      client?.destroy();
    },
  };
}
