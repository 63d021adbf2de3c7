using AgentVerse.Tools;
using AgentVerse.Tools.Apis;
using AgentVerse.Tools.Mcp;

// Tools evaluate patterns from users' JSON Schemas (and JSON queries): no regular expression may run unbounded.
// Set before anything builds a Regex, which reads it once.
AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromMilliseconds(100));

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddToolsCore();
builder.AddMcp();

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapToolsApi();
app.MapMcpEndpoints();

app.Run();
