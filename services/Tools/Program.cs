using AgentVerse.Tools;
using AgentVerse.Tools.Apis;
using AgentVerse.Tools.Mcp;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddToolsCore();
builder.AddMcp();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapToolsApi();
app.MapMcpEndpoints();

app.Run();
