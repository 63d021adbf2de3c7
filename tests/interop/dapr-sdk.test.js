// Interop: Dapr's own JavaScript SDK (@dapr/dapr, HTTP protocol), which no one here wrote, against
// the local runtime started by `agentverse run -f`:
//   - as a client (DaprClient): state save/get/delete, publish, invoke, secrets, metadata;
//   - as an app (DaprServer in server.js): receiving a subscription and an invocation.
// Run by the xUnit test Dapr_js_sdk_works_through_agentverse_run; exits 0 when every check passed.
// Needs AGENTVERSE_DLL (the built launcher) or runs `dotnet run --project tools/AgentVerse.Cli`.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { DaprClient, CommunicationProtocolEnum, HttpMethod } = require('@dapr/dapr');

const repoRoot = path.resolve(__dirname, '..', '..');
const checks = [];
const check = (name, fn) => checks.push({ name, fn });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function writeRunFile(dir, ports) {
  const component = (name, type, metadata) =>
    `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\nspec:\n  type: ${type}\n  version: v1\n  metadata:${metadata}\n`;
  fs.mkdirSync(path.join(dir, 'components'));
  fs.mkdirSync(path.join(dir, 'client'));
  fs.writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ 'db-password': 's3cret', nested: { key: 'inner' } }));
  fs.writeFileSync(path.join(dir, 'components', 'statestore.yaml'), component('statestore', 'state.in-memory', ' []'));
  fs.writeFileSync(path.join(dir, 'components', 'pubsub.yaml'), component('pubsub', 'pubsub.in-memory', ' []'));
  fs.writeFileSync(path.join(dir, 'components', 'secretstore.yaml'), component('secretstore', 'secretstores.local.file',
    `\n  - name: secretsFile\n    value: ${path.join(dir, 'secrets.json')}\n  - name: nestedSeparator\n    value: ":"`));
  fs.writeFileSync(path.join(dir, 'dapr.yaml'), [
    'version: 1',
    'common:',
    '  resourcesPath: ./components',
    '  appLogDestination: console',
    'apps:',
    '  - appID: server',
    `    appDirPath: ${__dirname}`,
    `    appPort: ${ports.serverApp}`,
    `    daprHTTPPort: ${ports.serverHttp}`,
    '    command: ["node", "server.js"]',
    '  - appID: client',
    '    appDirPath: ./client',
    `    daprHTTPPort: ${ports.clientHttp}`,
    '',
  ].join('\n'));
}

function startLauncher(runFile) {
  const dll = process.env.AGENTVERSE_DLL;
  const [cmd, args] = dll
    ? ['dotnet', [dll, 'run', '-f', runFile]]
    : ['dotnet', ['run', '--project', path.join(repoRoot, 'tools', 'AgentVerse.Cli'), '--', 'run', '-f', runFile]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const waiters = [];
  const onData = (chunk) => {
    process.stdout.write(chunk);
    output += chunk;
    waiters.filter((w) => output.includes(w.text)).forEach((w) => w.resolve());
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const waitFor = (text, ms) => new Promise((resolve, reject) => {
    if (output.includes(text)) return resolve();
    const timer = setTimeout(() => reject(new Error(`no '${text}' after ${ms} ms`)), ms);
    waiters.push({ text, resolve: () => { clearTimeout(timer); resolve(); } });
    exited.then((code) => reject(new Error(`agentverse exited (${code}) before '${text}'`)));
  });
  return { child, exited, waitFor };
}

async function eventually(fn, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function main() {
  const ports = { serverApp: await freePort(), serverHttp: await freePort(), clientHttp: await freePort() };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentverse-interop-'));
  writeRunFile(dir, ports);
  const launcher = startLauncher(path.join(dir, 'dapr.yaml'));
  let failed = 0;
  try {
    await launcher.waitFor('all 2 app(s) ready', 90000);
    await launcher.waitFor('dapr server started', 30000);
    const client = new DaprClient({
      daprHost: '127.0.0.1',
      daprPort: String(ports.clientHttp),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
    });

    check('state save and get', async () => {
      await client.state.save('statestore', [{ key: 'order-1', value: { item: 'book', qty: 2 } }, { key: 'note', value: 'plain text' }]);
      assert.deepEqual(await client.state.get('statestore', 'order-1'), { item: 'book', qty: 2 });
      assert.equal(await client.state.get('statestore', 'note'), 'plain text');
    });
    check('state bulk get and delete', async () => {
      const bulk = await client.state.getBulk('statestore', ['order-1', 'note']);
      assert.deepEqual(bulk.map((b) => b.key).sort(), ['note', 'order-1']);
      await client.state.delete('statestore', 'note');
      assert.ok(!(await client.state.get('statestore', 'note')));
    });
    check('invoke a method served by a DaprServer app', async () => {
      const answer = await client.invoker.invoke('server', 'hello', HttpMethod.POST, { name: 'dapr' });
      assert.deepEqual(answer, { greeting: 'hello dapr', appId: 'server' });
    });
    check('publish reaches the DaprServer subscription', async () => {
      const published = await client.pubsub.publish('pubsub', 'orders', { orderId: 42 });
      assert.equal(published.error, undefined);
      await eventually(async () => {
        const received = await client.invoker.invoke('server', 'received', HttpMethod.GET);
        assert.deepEqual(received, [{ orderId: 42 }]);
      });
    });
    check('secrets from the local file store', async () => {
      assert.deepEqual(await client.secret.get('secretstore', 'db-password'), { 'db-password': 's3cret' });
      assert.deepEqual(await client.secret.get('secretstore', 'nested:key'), { 'nested:key': 'inner' });
    });
    check('metadata names the app and its components', async () => {
      const metadata = await client.metadata.get();
      assert.equal(metadata.id, 'client');
      const types = metadata.components.map((c) => c.type).sort();
      assert.deepEqual(types, ['pubsub.in-memory', 'secretstores.local.file', 'state.in-memory']);
    });

    for (const { name, fn } of checks) {
      try {
        await fn();
        console.log(`interop: PASS ${name}`);
      } catch (e) {
        failed++;
        console.log(`interop: FAIL ${name}: ${e.stack || e}`);
      }
    }
  } finally {
    launcher.child.kill('SIGTERM');
    const code = await Promise.race([launcher.exited, new Promise((r) => setTimeout(() => r('timeout'), 30000))]);
    if (code === 'timeout') launcher.child.kill('SIGKILL');
    console.log(`interop: launcher exited with ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`interop: ${checks.length - failed}/${checks.length} checks passed`);
  process.exit(failed === 0 && checks.length > 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`interop: FAIL ${e.stack || e}`);
  process.exit(1);
});
