using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace AgentVerse.Dapr.Tests.Infrastructure;

/// <summary>
/// A stand-in for daprd over real HTTP: records every request and answers with what the test scripted
/// (default 204, as daprd does for successful writes). It checks the client's wire format against
/// docs/dapr-api.md; the behaviour of a real sidecar is covered by the LocalRuntime tests.
/// </summary>
public sealed class RecordingSidecar : IAsyncDisposable
{
    private readonly TestApp app;
    private readonly ConcurrentQueue<RecordedRequest> requests = new();

    private RecordingSidecar(TestApp app) => this.app = app;

    /// <summary>Answers requests; replace to script a reply.</summary>
    public Func<RecordedRequest, HttpContext, Task> Reply { get; set; } = (_, context) =>
    {
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    };

    public Uri Address => app.Address;

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    public RecordedRequest SingleRequest => Assert.Single(requests);

    public static async Task<RecordingSidecar> StartAsync()
    {
        RecordingSidecar? sidecar = null;
        var app = await TestApp.StartAsync(web => web.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var request = new RecordedRequest(
                context.Request.Method,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray());
            sidecar!.requests.Enqueue(request);
            await sidecar.Reply(request, context);
        }));
        sidecar = new RecordingSidecar(app);
        return sidecar;
    }

    public DaprClient CreateClient(string? apiToken = "test-token")
        => new DaprClientBuilder().UseHttpEndpoint(Address.AbsoluteUri).UseDaprApiToken(apiToken).Build();

    /// <summary>Scripts one reply: status, optional JSON/text body and headers.</summary>
    public void RepliesWith(int status, string? body = null, string contentType = "application/json", params (string Name, string Value)[] headers)
        => Reply = async (_, context) =>
        {
            context.Response.StatusCode = status;
            foreach (var (name, value) in headers)
            {
                context.Response.Headers[name] = value;
            }

            if (body is not null)
            {
                context.Response.ContentType = contentType;
                await context.Response.WriteAsync(body);
            }
        };

    public ValueTask DisposeAsync() => app.DisposeAsync();
}

/// <summary>One request as the sidecar saw it.</summary>
public sealed record RecordedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Path => RawTarget.Split('?')[0];

    public string Query => RawTarget.Contains('?', StringComparison.Ordinal) ? RawTarget[(RawTarget.IndexOf('?', StringComparison.Ordinal) + 1)..] : "";

    public string BodyText => Encoding.UTF8.GetString(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
