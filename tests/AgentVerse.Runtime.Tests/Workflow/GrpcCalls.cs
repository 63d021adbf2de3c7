using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace AgentVerse.Runtime.Tests.Workflow;

/// <summary>
/// gRPC calls by method path over Grpc.Net.Client, for tests that drive the sidecar as a worker, or as a client
/// calling methods the generated stubs do not have, would.
/// </summary>
public sealed class GrpcCalls : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;
    private readonly Metadata? _headers;

    public GrpcCalls(Uri address, string? apiToken = null, HttpMessageHandler? handler = null)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        });
        _invoker = _channel.CreateCallInvoker();
        _headers = apiToken is null ? null : new Metadata { { "dapr-api-token", apiToken } };
    }

    public Task<TResponse> UnaryAsync<TResponse>(string path, IMessage request, MessageParser<TResponse> parser, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
        where TResponse : class, IMessage<TResponse> =>
        _invoker.AsyncUnaryCall(Method(MethodType.Unary, path, parser), null,
            new CallOptions(_headers, deadline: DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30)), cancellationToken: cancellationToken), request).ResponseAsync;

    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TResponse>(string path, IMessage request, MessageParser<TResponse> parser,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TResponse : class, IMessage<TResponse>
    {
        using var call = _invoker.AsyncServerStreamingCall(Method(MethodType.ServerStreaming, path, parser), null,
            new CallOptions(_headers, cancellationToken: cancellationToken), request);
        while (await call.ResponseStream.MoveNext(cancellationToken))
        {
            yield return call.ResponseStream.Current;
        }
    }

    private static Method<IMessage, TResponse> Method<TResponse>(MethodType type, string path, MessageParser<TResponse> parser)
        where TResponse : class, IMessage<TResponse>
    {
        var slash = path.LastIndexOf('/');
        return new Method<IMessage, TResponse>(type, path[1..slash], path[(slash + 1)..],
            Marshallers.Create<IMessage>(m => m.ToByteArray(), _ => throw new NotSupportedException("requests are only sent")),
            Marshallers.Create(r => r.ToByteArray(), parser.ParseFrom));
    }

    public void Dispose() => _channel.Dispose();
}
