using AgentVerse.ServiceDefaults.PubSub;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
// Agent sessions are actors (AgentSessionActor); types are registered here as they are written.
builder.Services.AddActors(_ => { });

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapActorsHandlers().RequireDaprSidecar(app.Configuration);

app.Run();
