using AgentVerse.SdkApp;
using Dapr;
using Dapr.Workflow;

// Only the official SDK, as in its own samples: a subscriber (Dapr.AspNetCore), an actor (Dapr.Actors.AspNetCore)
// and workflows (Dapr.Workflow). The tests drive it through the runtime's sidecar and read what it received.
var builder = WebApplication.CreateBuilder(args);

builder.Services.AddDaprClient();
builder.Services.AddActors(options =>
{
    options.Actors.RegisterActor<CounterActor>();
    options.Actors.RegisterActor<TallyActor>();
});
builder.Services.AddDaprWorkflow(options =>
{
    options.RegisterWorkflow<ChainWorkflow>();
    options.RegisterWorkflow<FanOutWorkflow>();
    options.RegisterWorkflow<TimerWorkflow>();
    options.RegisterWorkflow<ApprovalWorkflow>();
    options.RegisterActivity<AddOneActivity>();
    options.RegisterActivity<SquareActivity>();
});
builder.Services.AddSingleton<Inbox>();

var app = builder.Build();

app.UseCloudEvents();
app.MapSubscribeHandler();
app.MapActorsHandlers();

app.MapPost("/orders", (Order order, Inbox inbox) =>
{
    inbox.Add("orders", order);
    return Results.Ok();
}).WithTopic("pubsub", "orders");

// Asks for a retry until the third attempt at the same order, then takes it.
app.MapPost("/flaky", (Order order, Inbox inbox) =>
    inbox.Attempt("flaky", order) < 3 ? Results.Ok(new { status = "RETRY" }) : Results.Ok(new { status = "SUCCESS" }))
    .WithTopic("pubsub", "flaky");

// Always refuses: the message ends up on the dead-letter topic.
app.MapPost("/poison", (Order order, Inbox inbox) =>
{
    inbox.Attempt("poison", order);
    return Results.Ok(new { status = "DROP" });
}).WithTopic(new TopicOptions { PubsubName = "pubsub", Name = "poison", DeadLetterTopic = "poison-dead" });

app.MapPost("/poison-dead", (Order order, Inbox inbox) =>
{
    inbox.Add("poison-dead", order);
    return Results.Ok();
}).WithTopic("pubsub", "poison-dead");

app.MapGet("/inbox/{topic}", (string topic, Inbox inbox) => inbox.Received(topic));
app.MapGet("/attempts/{topic}", (string topic, Inbox inbox) => inbox.Attempts(topic));
app.MapPost("/echo", async (HttpRequest request) => Results.Text(await new StreamReader(request.Body).ReadToEndAsync(), request.ContentType));

app.Run();
