using System.Collections.Concurrent;
using AgentVerse.Runtime.Tests.Sidecar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Tests.Actors;

/// <summary>One actor callback as the app received it.</summary>
public sealed record ActorRequest(string Type, string Id, string Method, string Body, HttpContext Context);

/// <summary>
/// A <see cref="TestApp"/> playing an actor host with raw HTTP callbacks: it serves <c>/dapr/config</c>
/// and routes <c>PUT /actors/{type}/{id}/method/...</c> and <c>DELETE /actors/{type}/{id}</c> to <c>Handle</c>.
/// </summary>
public sealed class ActorApp : IAsyncDisposable
{
    private ActorApp(TestApp app) => App = app;

    public TestApp App { get; }
    public int Port => App.Port;

    /// <summary>Set once the runtime is up, so handlers can call their own sidecar.</summary>
    public HttpClient? Sidecar { get; set; }

    public ConcurrentQueue<(string Type, string Id)> Deactivated { get; } = new();

    public static async Task<ActorApp> StartAsync(string config, Func<ActorApp, ActorRequest, Task<IResult>> handle)
    {
        ActorApp? self = null;
        var app = await TestApp.StartAsync((web, _) =>
        {
            web.MapGet("/dapr/config", () => Results.Text(config, "application/json"));
            web.MapPut("/actors/{type}/{id}/method/{**method}", async (HttpContext context, string type, string id, string method) =>
            {
                using var reader = new StreamReader(context.Request.Body);
                var body = await reader.ReadToEndAsync();
                return await handle(self!, new ActorRequest(type, id, method, body, context));
            });
            web.MapDelete("/actors/{type}/{id}", (string type, string id) =>
            {
                self!.Deactivated.Enqueue((type, id));
                return Results.Ok();
            });
        });
        self = new ActorApp(app);
        return self;
    }

    public static string Config(string types, string extra = "") =>
        $$"""{"entities":[{{string.Join(",", types.Split(',').Select(t => $"\"{t}\""))}}]{{(extra.Length == 0 ? "" : "," + extra)}}}""";

    public ValueTask DisposeAsync()
    {
        Sidecar?.Dispose();
        return App.DisposeAsync();
    }
}
