// vitest global setup (vitest.config.ts `globalSetup`): no process outlives the test suite. After the last
// test, every process the run started that is still alive (nats-server, redis-server, a `faro run` child, …)
// is killed and named, and the run fails. See @faro/test-harness processes.ts for how they are found.
import { beginTestRun, describeLeaks } from "@faro/test-harness";

export default function setup(): () => Promise<void> {
  const run = beginTestRun();
  return async () => {
    const leaked = await run.end();
    if (leaked.length === 0) return;
    // vitest only logs an error thrown here ("error during close"); the exit code has to be set as well.
    process.exitCode = 1;
    throw new Error(
      `${leaked.length} process(es) started by the tests were still running after the last test; they have been killed:\n` +
        describeLeaks(leaked) +
        "\nStop every process a test starts (afterAll/afterEach), and await its exit.",
    );
  };
}
