using AgentVerse.CrashApp;
using AgentVerse.Dapr;
using AgentVerse.Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// No app port: the workflow worker dials the sidecar's gRPC port (DAPR_GRPC_PORT) and the activities
// reach its state API (DAPR_HTTP_PORT); workflows are started through the sidecar's workflow HTTP API.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<CrashAppOptions>()
    .BindConfiguration(CrashAppOptions.Section)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddDaprClient();
builder.Services.AddDaprWorkflow(o =>
{
    o.RegisterWorkflow<StepChainWorkflow>();
    o.RegisterActivity<RecordStepActivity>();
});

await builder.Build().RunAsync();
