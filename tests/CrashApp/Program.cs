using AgentVerse.CrashApp;
using Dapr.Workflow;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// No app port: the workflow worker dials the sidecar's gRPC port (DAPR_GRPC_PORT) and the activities reach its state
// API through DaprClient; workflows are started through the sidecar's workflow HTTP API.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddOptions<CrashAppOptions>()
    .BindConfiguration(CrashAppOptions.Section)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddDaprClient();
builder.Services.AddDaprWorkflow(options =>
{
    options.RegisterWorkflow<StepChainWorkflow>();
    options.RegisterActivity<RecordStepActivity>();
});

await builder.Build().RunAsync();
