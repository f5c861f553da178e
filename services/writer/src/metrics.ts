// The writer's own metrics (faro_writer_*), next to the standard service metrics on the same registry.
import { counter, gauge, histogram, type Counter, type Gauge, type Histogram, type Registry } from "@faro/observability";

export interface WriterMetrics {
  filesWritten: Counter<"kind">;
  bytesWritten: Counter;
  writeSeconds: Histogram<"kind">;
  snapshots: Counter;
  retentionDeletions: Counter<"policy">;
  retentionPolicyMaxAge: Gauge<"policy">;
  tempFilesRemoved: Counter;
  elidedLines: Counter;
  validationFailures: Counter<"kind">;
  duplicates: Counter;
  undecodable: Counter<"stream">;
  oversize: Counter;
  trackedEvictions: Counter;
  htmlPages: Counter<"kind">;
  htmlFailures: Counter;
}

export function writerMetrics(registry: Registry): WriterMetrics {
  return {
    filesWritten: counter(registry, { name: "faro_writer_files_written_total", help: "Story files written, by kind (final, snapshot).", labelNames: ["kind"] }),
    bytesWritten: counter(registry, { name: "faro_writer_bytes_written_total", help: "Bytes of story files written." }),
    writeSeconds: histogram(registry, {
      name: "faro_writer_write_seconds",
      help: "Time to materialise one story file: read-back, build, validation, write, rename and directory fsync.",
      labelNames: ["kind"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    snapshots: counter(registry, { name: "faro_writer_snapshots_total", help: "Snapshot files written for story windows still open." }),
    retentionDeletions: counter(registry, { name: "faro_writer_retention_deletions_total", help: "Story files (and HTML pages) removed by retention, by policy (`default` when no retention.policies entry matched).", labelNames: ["policy"] }),
    retentionPolicyMaxAge: gauge(registry, { name: "faro_writer_retention_max_age_seconds", help: "Maximum age of story files by retention policy (0 = kept forever).", labelNames: ["policy"] }),
    tempFilesRemoved: counter(registry, { name: "faro_writer_temp_files_removed_total", help: "Temp files of crashed writes removed by the retention scan." }),
    elidedLines: counter(registry, { name: "faro_writer_elided_lines_total", help: "Log lines left out of story files by the size bounds (counted per container in the file)." }),
    validationFailures: counter(registry, { name: "faro_writer_validation_failures_total", help: "Story files that failed JSON Schema validation and were not written, by kind.", labelNames: ["kind"] }),
    duplicates: counter(registry, { name: "faro_writer_duplicate_entries_total", help: "Repeated story entries dropped while building files." }),
    undecodable: counter(registry, { name: "faro_writer_undecodable_total", help: "Messages skipped during read-back because they could not be decoded.", labelNames: ["stream"] }),
    oversize: counter(registry, { name: "faro_writer_oversize_files_total", help: "Files still above limits.maxBytes with every timeline log line elided." }),
    trackedEvictions: counter(registry, { name: "faro_writer_tracked_evictions_total", help: "Open story windows forgotten for snapshots because snapshot.maxTracked was reached." }),
    htmlPages: counter(registry, { name: "faro_writer_html_pages_written_total", help: "HTML pages written beside story files (html.enabled), by kind (final, snapshot).", labelNames: ["kind"] }),
    htmlFailures: counter(registry, { name: "faro_writer_html_failures_total", help: "HTML pages not written (rendering or writing failed); the story file itself was written." }),
  };
}
