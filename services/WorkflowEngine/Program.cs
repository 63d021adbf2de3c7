using Dapr.Workflow;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
// Workflow executions run on Dapr Workflow; workflows and activities are registered here as they are written.
builder.Services.AddDaprWorkflow(_ => { });

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
