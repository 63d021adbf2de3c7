// Drives the runtime's TaskHubSidecarService with Dapr's own JavaScript durabletask SDK
// (@dapr/durabletask-js): an independent worker and client over @grpc/grpc-js.
// Usage: DAPR_GRPC_PORT=<sidecar gRPC port> node workflow/durabletask-js.test.js
"use strict";

const assert = require("node:assert/strict");
const { TaskHubGrpcClient, TaskHubGrpcWorker } = require("@dapr/durabletask-js");
const { whenAll } = require("@dapr/durabletask-js/task");
const { OrchestrationStatus } = require("@dapr/durabletask-js/orchestration/enum/orchestration-status.enum");

const port = process.env.DAPR_GRPC_PORT;
if (!port) {
  console.error("DAPR_GRPC_PORT is required");
  process.exit(2);
}
const address = `127.0.0.1:${port}`;

// ---- workflows and activities (one name each, registered explicitly) ----

const hello = async (_ctx, name) => `Hello ${name}!`;
const square = async (_ctx, n) => n * n;

const sequence = async function* (ctx) {
  const results = [];
  results.push(yield ctx.callActivity("hello", "Tokyo"));
  results.push(yield ctx.callActivity("hello", "Seattle"));
  results.push(yield ctx.callActivity("hello", "London"));
  return results;
};

const fanOut = async function* (ctx, count) {
  const tasks = [];
  // 1..count: the SDK encodes a falsy activity result (0) as "no result".
  for (let i = 1; i <= count; i++) {
    tasks.push(ctx.callActivity("square", i));
  }
  const squares = yield whenAll(tasks);
  return squares.reduce((a, b) => a + b, 0);
};

const sleeper = async function* (ctx) {
  const start = ctx.currentUtcDateTime.getTime();
  yield ctx.createTimer(new Date(start + 1000));
  return ctx.currentUtcDateTime.getTime() - start;
};

const approval = async function* (ctx) {
  const decision = yield ctx.waitForExternalEvent("approval");
  return { approved: decision.ok, by: decision.by };
};

const counter = async function* (ctx, n) {
  if (n < 3) {
    ctx.continueAsNew(n + 1, false);
    return;
  }
  return n;
};

// ---- scenarios ----

const client = new TaskHubGrpcClient(address);
const worker = new TaskHubGrpcWorker(address);
worker.addNamedOrchestrator("sequence", sequence);
worker.addNamedOrchestrator("fanOut", fanOut);
worker.addNamedOrchestrator("sleeper", sleeper);
worker.addNamedOrchestrator("approval", approval);
worker.addNamedOrchestrator("counter", counter);
worker.addNamedActivity("hello", hello);
worker.addNamedActivity("square", square);

async function completed(id) {
  const state = await client.waitForOrchestrationCompletion(id, true, 30);
  assert.ok(state, `workflow ${id} has no state`);
  assert.equal(state.runtimeStatus, OrchestrationStatus.COMPLETED, `workflow ${id}: ${JSON.stringify(state.failureDetails)}`);
  return JSON.parse(state.serializedOutput);
}

const scenarios = {
  "chain of three activities": async () => {
    const id = await client.scheduleNewOrchestration("sequence");
    assert.deepEqual(await completed(id), ["Hello Tokyo!", "Hello Seattle!", "Hello London!"]);
  },
  "fan-out of 20 activities": async () => {
    const id = await client.scheduleNewOrchestration("fanOut", 20);
    assert.equal(await completed(id), 2870);
  },
  "durable timer": async () => {
    const id = await client.scheduleNewOrchestration("sleeper");
    assert.ok((await completed(id)) >= 1000);
  },
  "external event": async () => {
    const id = await client.scheduleNewOrchestration("approval");
    await client.waitForOrchestrationStart(id, false, 30);
    await client.raiseOrchestrationEvent(id, "approval", { ok: true, by: "ops" });
    assert.deepEqual(await completed(id), { approved: true, by: "ops" });
  },
  "continue-as-new": async () => {
    const id = await client.scheduleNewOrchestration("counter", 1);
    assert.equal(await completed(id), 3);
  },
  "suspend, resume, terminate and purge": async () => {
    const id = await client.scheduleNewOrchestration("approval");
    await client.waitForOrchestrationStart(id, false, 30);
    await client.suspendOrchestration(id);
    assert.equal((await client.getOrchestrationState(id)).runtimeStatus, OrchestrationStatus.SUSPENDED);
    await client.resumeOrchestration(id);
    assert.equal((await client.getOrchestrationState(id)).runtimeStatus, OrchestrationStatus.RUNNING);
    await client.terminateOrchestration(id, "enough");
    const state = await client.waitForOrchestrationCompletion(id, true, 30);
    assert.equal(state.runtimeStatus, OrchestrationStatus.TERMINATED);
    const purged = await client.purgeOrchestration(id);
    assert.equal(purged.deletedInstanceCount, 1);
    assert.equal(await client.getOrchestrationState(id), undefined);
  },
  "errors arrive as gRPC statuses": async () => {
    await assert.rejects(client.raiseOrchestrationEvent("no-such-workflow", "approval", 1), (e) => e.code === 5);
    const id = await client.scheduleNewOrchestration("approval");
    await client.waitForOrchestrationStart(id, false, 30);
    // Purging a running workflow is refused (FAILED_PRECONDITION) and leaves it running.
    await assert.rejects(client.purgeOrchestration(id), (e) => e.code === 9);
    assert.equal((await client.getOrchestrationState(id)).runtimeStatus, OrchestrationStatus.RUNNING);
    await client.terminateOrchestration(id, "cleanup");
  },
};

(async () => {
  let passed = 0;
  let failed = 0;
  await worker.start();
  try {
    for (const [name, run] of Object.entries(scenarios)) {
      try {
        await run();
        passed++;
        console.log(`ok - ${name}`);
      } catch (e) {
        failed++;
        console.log(`not ok - ${name}: ${e && e.stack ? e.stack : e}`);
      }
    }
  } finally {
    await worker.stop().catch(() => {});
    await client.stop().catch(() => {});
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})();
