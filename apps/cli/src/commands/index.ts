// Registry of faro CLI commands: adding a command is one file in this folder plus one line here.
import type { Command } from "../command.js";
import { captureCommand } from "./capture.js";
import { demoCommand } from "./demo.js";
import { diagnoseCommand } from "./diagnose.js";
import { mcpCommand } from "./mcp.js";
import { receiveCommand } from "./receive.js";
import { redactCommand } from "./redact.js";
import { replayCommand } from "./replay.js";
import { runCommand } from "./run.js";
import { serveCommand } from "./serve.js";
import { simCommand } from "./sim.js";
import { storiesCommand } from "./stories.js";
import { tailCommand } from "./tail.js";
import { upCommand } from "./up.js";

export const commands: Command[] = [demoCommand, runCommand, upCommand, tailCommand, captureCommand, storiesCommand, simCommand, redactCommand, diagnoseCommand, mcpCommand, serveCommand, receiveCommand, replayCommand];
