using AgentVerse.Tools;
using AgentVerse.Tools.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddToolsCore();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapToolsApi();

app.Run();
