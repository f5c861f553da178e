// @faro/writer: materialises story windows from FARO_STORY as atomically written, schema-valid JSON files.
export { configSchema } from "./config.js";
export type { WriterConfig } from "./config.js";
export { writerService } from "./definition.js";
export { createWriter, CONSUMER_NAME, DEAD_LETTER_STAGE } from "./service.js";
export type { Writer, WriterOptions } from "./service.js";
export { buildStoryFile, dedupeAndSort } from "./build.js";
export type { ReadEntry, BuildOptions, BuildResult } from "./build.js";
export { writeFileAtomic, isTempFile, TEMP_SUFFIX } from "./atomic.js";
export { storyFilePath, storyFileName, namespaceDir } from "./paths.js";
export { scanRetention, STALE_TEMP_MS } from "./retention.js";
export type { RetentionResult } from "./retention.js";
export { listStoryFiles, findStoryFile, summarize } from "./files.js";
export type { StoryFileSummary, UnreadableFile } from "./files.js";
export { writerMetrics } from "./metrics.js";
export type { WriterMetrics } from "./metrics.js";
export { WriterError, MalformedEntryError, InvalidStoryError, ReadBackError, StoryWriteError, StoryNotFoundError } from "./errors.js";
