// The app side of the interop test: a DaprServer from Dapr's own JavaScript SDK (HTTP protocol),
// started by `agentverse run -f` like any app. It subscribes to a topic and serves two methods.
const { DaprServer, CommunicationProtocolEnum, HttpMethod } = require('@dapr/dapr');

const received = [];

async function main() {
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: process.env.APP_PORT,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: {
      daprHost: '127.0.0.1',
      daprPort: process.env.DAPR_HTTP_PORT,
      communicationProtocol: CommunicationProtocolEnum.HTTP,
    },
  });

  await server.pubsub.subscribe('pubsub', 'orders', async (data) => {
    console.log(`received order ${JSON.stringify(data)}`);
    received.push(data);
  });
  await server.invoker.listen('hello', async ({ body }) => ({ greeting: `hello ${JSON.parse(body || '{}').name}`, appId: process.env.APP_ID }), { method: HttpMethod.POST });
  await server.invoker.listen('received', async () => received, { method: HttpMethod.GET });

  await server.start();
  console.log('dapr server started');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
