using AgentVerse.Tools.Mcp;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddMcp();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapMcp();

app.Run();
