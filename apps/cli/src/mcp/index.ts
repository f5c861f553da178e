// `faro mcp`: Faro as the context source of AI assistants over the Model Context Protocol (docs/mcp.md).
export { mcpConfigSchema, loadTokens, canSee, principalOf } from "./config.js";
export type { McpConfig, Principal, TokenTable } from "./config.js";
export { openRuntime, serveStdio, serveHttp } from "./server.js";
export type { McpRuntime, HttpHandle } from "./server.js";
export { createServer, TOOL_NAMES, SERVER_NAME, SERVER_VERSION } from "./tools.js";
export { RefusedError, NotFoundError, BusReadError } from "./errors.js";
