// Hosts an actor type with Dapr's own JavaScript SDK (HTTP protocol) behind the AgentVerse runtime.
// Started by AgentVerse.DaprSdk.Tests (JsActorInteropTests) with APP_PORT and DAPR_HTTP_PORT set.
const { DaprServer, AbstractActor, CommunicationProtocolEnum } = require('@dapr/dapr');
const { Temporal } = require('@js-temporal/polyfill');

class JsCounterActor extends AbstractActor {
  async increment(by) {
    const [, current] = await this.getStateManager().tryGetState('count');
    const count = (current ?? 0) + by;
    await this.getStateManager().setState('count', count);
    return count;
  }

  async getCount() {
    const [, current] = await this.getStateManager().tryGetState('count');
    return current ?? 0;
  }

  async remindMe(name) {
    await this.registerActorReminder(name, Temporal.Duration.from({ milliseconds: 100 }), undefined, undefined, { from: 'js', name });
  }

  async receiveReminder(data) {
    const [, log] = await this.getStateManager().tryGetState('reminders');
    await this.getStateManager().setState('reminders', [...(log ?? []), data]);
  }

  async reminders() {
    const [, log] = await this.getStateManager().tryGetState('reminders');
    return log ?? [];
  }
}

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
  await server.actor.init();
  server.actor.registerActor(JsCounterActor);
  await server.start();
  console.log('js actor host started');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
