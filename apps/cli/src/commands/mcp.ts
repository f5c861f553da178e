// `faro mcp`: serves stories and incidents to AI assistants over the Model Context Protocol, read-only —
// stdio for a local assistant, Streamable HTTP with bearer tokens for a shared deployment (docs/mcp.md).
import { ConfigError, leavesOf, flagNameOf, describeField, loadConfig } from "@faro/config";
import { createLogger } from "@faro/observability";
import type { Command } from "../command.js";
import { loadTokens, mcpConfigSchema, openRuntime, serveHttp, serveStdio, type TokenTable } from "../mcp/index.js";

const OWN_KEYS = new Set(["transport", "dir", "listen", "auth", "stdio", "limits", "nats", "log"]);

export const mcpCommand: Command = {
  name: "mcp",
  summary: "serve stories and incidents to AI assistants over the Model Context Protocol (stdio or HTTP), read-only",
  usage: "faro mcp [--transport stdio|http] [--dir DIR] [--nats.url URL] [--listen.host H] [--listen.port P] [--auth.tokensFile FILE] [--config FILE] [--<setting> VALUE]",
  async run(args, io) {
    if (args.includes("--help") || args.includes("-h")) {
      const settings = leavesOf(mcpConfigSchema.fields)
        .filter((l) => OWN_KEYS.has(l.path[0]!) && !(l.path[0] === "nats" && l.path[1] === "provision"))
        .map((l) => `  ${flagNameOf(l.path).padEnd(28)} ${describeField(l.field)}${l.field.default === undefined ? "" : ` (default ${JSON.stringify(l.field.default)})`}`);
      io.out([`usage: ${mcpCommand.usage}`, "Settings also come from FARO_* variables (FARO_TRANSPORT, FARO_LIMITS_MAX_RESULT_BYTES, …) and --config FILE; see docs/mcp.md.", ...settings].join("\n"));
      return 0;
    }
    const config = loadConfig(mcpConfigSchema, { argv: args, env: process.env });
    let tokens: TokenTable | undefined;
    if (config.transport === "http") {
      if (config.auth.tokensFile === undefined)
        throw new ConfigError("mcp", [{ path: "auth.tokensFile", message: "required with transport http: every caller needs a bearer token that names its tenants", source: { kind: "default" } }]);
      tokens = loadTokens(config.auth.tokensFile);
    }
    // stdout is the stdio transport: logs go to stderr, always as JSON lines.
    const logger = createLogger({ service: "mcp", level: config.log.level, pretty: false, destination: process.stderr });
    const rt = await openRuntime(config, logger);
    try {
      if (config.transport === "stdio") {
        await serveStdio(rt, config.stdio.tenants, io.signal);
        return 0;
      }
      let table = tokens!;
      const current: TokenTable = { lookup: (t) => table.lookup(t), get size() {
        return table.size;
      } };
      const reload = () => {
        try {
          table = loadTokens(config.auth.tokensFile!);
          logger.info({ tokens: table.size }, "tokens file re-read");
        } catch (err) {
          logger.error({ err: (err as Error).message }, "tokens file invalid: keeping the previous tokens");
        }
      };
      process.on("SIGHUP", reload);
      const h = await serveHttp(rt, current, { host: config.listen.host, port: config.listen.port });
      io.err(`faro mcp: listening on ${h.url} (${table.size} token${table.size === 1 ? "" : "s"}; /metrics, /healthz)`);
      try {
        await new Promise<void>((resolve) => (io.signal.aborted ? resolve() : io.signal.addEventListener("abort", () => resolve(), { once: true })));
      } finally {
        process.off("SIGHUP", reload);
        await h.close();
      }
      return 0;
    } finally {
      await rt.close();
    }
  },
};
