// @faro/story-view: a story file told in sentences and drawn as a self-contained HTML page.
export { StoryViewError, UnsupportedStoryError } from "./errors.js";
export { narrateEntry, narrateStoryEntry, narrateStory, narrateIncident, describeChange, incidentTime, instanceLog } from "./narrative.js";
export type { NarratedEntry, Tone } from "./narrative.js";
export { renderStoryHtml, DEFAULT_MAX_ENTRIES } from "./html.js";
export type { StoryHtmlOptions } from "./html.js";
export { renderStoryListHtml } from "./list.js";
export type { StoryListItem, StoryListFilters } from "./list.js";
export { esc, inlineJson } from "./escape.js";
export { duration, clock } from "./format.js";
