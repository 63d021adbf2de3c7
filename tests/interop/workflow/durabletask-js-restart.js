// A durabletask-js worker and client that outlive the runtime: schedules a workflow (timer, then an
// activity), prints "scheduled <id>", and waits for it across the runtime being restarted on the same
// port (the test restarts it after reading that line). The worker reconnects on its own.
// Usage: DAPR_GRPC_PORT=<port> node workflow/durabletask-js-restart.js
"use strict";

const { TaskHubGrpcClient, TaskHubGrpcWorker } = require("@dapr/durabletask-js");
const { OrchestrationStatus } = require("@dapr/durabletask-js/orchestration/enum/orchestration-status.enum");

const address = `127.0.0.1:${process.env.DAPR_GRPC_PORT}`;
const worker = new TaskHubGrpcWorker(address);
worker.addNamedActivity("stamp", async (_ctx, text) => `${text} (stamped)`);
worker.addNamedOrchestrator("napThenStamp", async function* (ctx, text) {
  yield ctx.createTimer(new Date(ctx.currentUtcDateTime.getTime() + 3000));
  return yield ctx.callActivity("stamp", text);
});

(async () => {
  await worker.start();
  const client = new TaskHubGrpcClient(address);
  const id = await client.scheduleNewOrchestration("napThenStamp", "survivor");
  await client.waitForOrchestrationStart(id, false, 30);
  console.log(`scheduled ${id}`);

  const deadline = Date.now() + 60000;
  let state;
  while (Date.now() < deadline) {
    try {
      state = await client.waitForOrchestrationCompletion(id, true, 30);
      if (state) break;
    } catch (e) {
      // The runtime is down or restarting: try again.
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  await worker.stop().catch(() => {});
  await client.stop().catch(() => {});
  const ok = state && state.runtimeStatus === OrchestrationStatus.COMPLETED && JSON.parse(state.serializedOutput) === "survivor (stamped)";
  console.log(ok ? "restart: 1 passed, 0 failed" : `restart: 0 passed, 1 failed (${JSON.stringify(state)})`);
  process.exit(ok ? 0 : 1);
})();
