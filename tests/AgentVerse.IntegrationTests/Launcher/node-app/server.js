// A plain Node app (no SDK) run by `agentverse run -f` in the launcher tests: it serves HTTP on
// APP_PORT and calls its sidecar on DAPR_HTTP_PORT, as any Dapr app in any language would.
const http = require('http');

const appPort = Number(process.env.APP_PORT);
const sidecar = `http://127.0.0.1:${process.env.DAPR_HTTP_PORT}`;
// When the sidecar requires an API token, the launcher gives the app the same DAPR_API_TOKEN.
const tokenHeader = process.env.DAPR_API_TOKEN ? { 'dapr-api-token': process.env.DAPR_API_TOKEN } : {};

async function stateRoundTrip() {
  const saved = await fetch(`${sidecar}/v1.0/state/statestore`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...tokenHeader },
    body: JSON.stringify([{ key: 'node-key', value: { from: process.env.APP_ID } }]),
  });
  const read = await fetch(`${sidecar}/v1.0/state/statestore/node-key`, { headers: tokenHeader });
  return { saveStatus: saved.status, readStatus: read.status, value: await read.json() };
}

const server = http.createServer(async (req, res) => {
  try {
    let body;
    if (req.url === '/env') {
      const names = ['APP_ID', 'APP_PORT', 'APP_CHANNEL_ADDRESS', 'APP_PROTOCOL', 'DAPR_HTTP_PORT', 'DAPR_GRPC_PORT', 'GREETING', 'SHARED'];
      body = Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
      body.cwd = process.cwd();
      body.hasDaprApiToken = Boolean(process.env.DAPR_API_TOKEN);
    } else if (req.url === '/state') {
      body = await stateRoundTrip();
    } else if (req.url === '/healthz') {
      body = { ok: true };
    } else {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  } catch (e) {
    res.writeHead(500).end(String(e));
  }
});

process.on('SIGTERM', () => {
  console.log('node app got SIGTERM');
  server.close(() => process.exit(0));
});

server.listen(appPort, '127.0.0.1', () => console.log(`node app listening on ${appPort}`));
