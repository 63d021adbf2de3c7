using AgentVerse.Gateway;
using AgentVerse.Gateway.Apis;
using AgentVerse.Gateway.Routing;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGatewayServices();

var app = builder.Build();

app.UseGatewayEdge();
app.MapDefaultEndpoints();
app.UseRateLimiter();

app.MapWellKnownApi();
app.MapAuthApi();
app.MapUsersApi();
app.MapHealthApi();
app.MapProxyApi();

app.Run();
