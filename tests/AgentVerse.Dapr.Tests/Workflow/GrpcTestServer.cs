using System.Net;
using AgentVerse.Dapr.Workflow.Grpc;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace AgentVerse.Dapr.Tests.Workflow;

/// <summary>A real Kestrel server on HTTP/2 cleartext that speaks gRPC framing by hand.</summary>
public sealed class GrpcTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcTestServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<GrpcTestServer> StartAsync(Action<IEndpointRouteBuilder> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Urls.Select(u => new Uri(u)).First();
        return new GrpcTestServer(app, address);
    }

    public static async Task<TRequest> ReadRequestAsync<TRequest>(HttpContext context, MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
        => await GrpcMessageFraming.ReadMessageAsync(context.Request.BodyReader, parser, cancellationToken: context.RequestAborted)
           ?? throw new InvalidOperationException("no request message");

    public static void StartResponse(HttpContext context)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/grpc";
    }

    public static async Task WriteAsync(HttpContext context, IMessage message)
        => await GrpcMessageFraming.WriteMessageAsync(context.Response.BodyWriter, message, context.RequestAborted);

    public static void EndWithStatus(HttpContext context, GrpcStatusCode status, string? message = null)
    {
        context.Response.AppendTrailer("grpc-status", ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (message is not null)
        {
            context.Response.AppendTrailer("grpc-message", GrpcStatusMessage.Encode(message));
        }
    }

    /// <summary>Trailers-Only: the status goes in the one HEADERS frame, with no body.</summary>
    public static async Task TrailersOnlyAsync(HttpContext context, GrpcStatusCode status, string message)
    {
        StartResponse(context);
        context.Response.Headers["grpc-status"] = ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = GrpcStatusMessage.Encode(message);
        await context.Response.CompleteAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
