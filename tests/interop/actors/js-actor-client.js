// Calls a C# actor (the official Dapr .NET SDK) through the AgentVerse runtime with Dapr's own JavaScript SDK (HTTP protocol).
// Started by AgentVerse.DaprSdk.Tests (JsActorInteropTests) with DAPR_HTTP_PORT, ACTOR_TYPE and ACTOR_ID set; prints one JSON line.
const { DaprClient, ActorProxyBuilder, ActorId, CommunicationProtocolEnum } = require('@dapr/dapr');

async function main() {
  const client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: process.env.DAPR_HTTP_PORT,
    communicationProtocol: CommunicationProtocolEnum.HTTP,
  });
  // The JS proxy takes the actor type from a class name; the class is only a name tag on this side.
  const stub = { [process.env.ACTOR_TYPE]: class {} }[process.env.ACTOR_TYPE];
  const actor = new ActorProxyBuilder(stub, client).build(new ActorId(process.env.ACTOR_ID));

  const first = await actor.IncrementAsync(4);
  const second = await actor.IncrementAsync(6);
  const count = await actor.GetCountAsync();
  console.log(JSON.stringify({ first, second, count }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
