using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace AgentVerse.Dapr.Workflow.Grpc;

/// <summary>
/// Minimal gRPC client over <see cref="HttpClient"/>: HTTP/2 with prior knowledge (h2c) to an
/// <c>http://</c> address, unary and server-streaming calls, status from headers (Trailers-Only)
/// or trailers, deadlines as <c>grpc-timeout</c>, and <c>dapr-api-token</c> metadata.
/// </summary>
public sealed class GrpcCallInvoker : IDisposable
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new("application/grpc");

    private readonly HttpClient _httpClient;
    private readonly string? _apiToken;
    private readonly int _maxMessageSize;

    /// <summary>Creates an invoker for <paramref name="address"/> with its own HTTP/2 connection pool.</summary>
    public GrpcCallInvoker(Uri address, string? apiToken = null, int maxMessageSize = GrpcMessageFraming.DefaultMaxMessageSize)
        : this(address, CreateHandler(), apiToken, maxMessageSize)
    {
    }

    /// <summary>Creates an invoker that sends through <paramref name="handler"/> (owned and disposed by the invoker).</summary>
    public GrpcCallInvoker(Uri address, HttpMessageHandler handler, string? apiToken = null, int maxMessageSize = GrpcMessageFraming.DefaultMaxMessageSize)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentNullException.ThrowIfNull(handler);
        Address = address;
        _apiToken = string.IsNullOrEmpty(apiToken) ? null : apiToken;
        _maxMessageSize = maxMessageSize;
        _httpClient = new HttpClient(handler, disposeHandler: true)
        {
            BaseAddress = address,
            // Streams live for hours; deadlines are per call (grpc-timeout + cancellation).
            Timeout = Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <summary>The server address.</summary>
    public Uri Address { get; }

    /// <summary>
    /// The sidecar's gRPC address from the environment: <c>DAPR_GRPC_ENDPOINT</c>, else
    /// <c>http://127.0.0.1:{DAPR_GRPC_PORT}</c> (default port 50001).
    /// </summary>
    public static Uri GetSidecarAddressFromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable("DAPR_GRPC_ENDPOINT");
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            return endpoint.Contains("://", StringComparison.Ordinal) ? new Uri(endpoint) : new Uri("http://" + endpoint);
        }

        var port = Environment.GetEnvironmentVariable("DAPR_GRPC_PORT");
        return new Uri($"http://127.0.0.1:{(string.IsNullOrWhiteSpace(port) ? "50001" : port.Trim())}");
    }

    /// <summary>The HTTP/2 handler used by default: keep-alive pings, several connections when streams run out.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        // daprd kills connections that ping more often than every ~8 s, so stay well above.
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>Makes a unary call to <paramref name="method"/> (<c>/Service/Method</c>).</summary>
    public async Task<TResponse> UnaryAsync<TRequest, TResponse>(
        string method, TRequest request, MessageParser<TResponse> responseParser, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
        where TRequest : IMessage
        where TResponse : class, IMessage<TResponse>
    {
        using var deadline = CreateDeadline(timeout, cancellationToken);
        try
        {
            using var response = await SendAsync(method, request, timeout, deadline.Token);
            if (TryGetStatus(response.Headers, out var headerStatus, out var headerMessage))
            {
                // Trailers-Only: the status came in the headers and there is no body.
                throw headerStatus == GrpcStatusCode.OK
                    ? new GrpcException(GrpcStatusCode.Internal, "The server returned OK without a response message.")
                    : new GrpcException(headerStatus, headerMessage);
            }

            using var stream = await response.Content.ReadAsStreamAsync(deadline.Token);
            var message = await GrpcMessageFraming.ReadMessageAsync(stream, responseParser, _maxMessageSize, deadline.Token);
            if (message is not null && await GrpcMessageFraming.ReadMessageAsync(stream, responseParser, _maxMessageSize, deadline.Token) is not null)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "The server returned more than one message for a unary call.");
            }

            ThrowIfTrailersNotOk(response);
            return message ?? throw new GrpcException(GrpcStatusCode.Internal, "The server returned OK without a response message.");
        }
        catch (Exception ex) when (TranslateException(ex, timeout, cancellationToken) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>
    /// Makes a server-streaming call and yields each message as it arrives. Ending the enumeration early
    /// (break, dispose, cancellation) resets the HTTP/2 stream (RST_STREAM CANCEL).
    /// </summary>
    public async IAsyncEnumerable<TResponse> ServerStreamingAsync<TRequest, TResponse>(
        string method,
        TRequest request,
        MessageParser<TResponse> responseParser,
        TimeSpan? timeout = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where TRequest : IMessage
        where TResponse : class, IMessage<TResponse>
    {
        using var deadline = CreateDeadline(timeout, cancellationToken);
        HttpResponseMessage response;
        Stream stream;
        try
        {
            response = await SendAsync(method, request, timeout, deadline.Token);
            if (TryGetStatus(response.Headers, out var headerStatus, out var headerMessage))
            {
                response.Dispose();
                if (headerStatus == GrpcStatusCode.OK)
                {
                    yield break;
                }

                throw new GrpcException(headerStatus, headerMessage);
            }

            stream = await response.Content.ReadAsStreamAsync(deadline.Token);
        }
        catch (Exception ex) when (TranslateException(ex, timeout, cancellationToken) is { } translated)
        {
            throw translated;
        }

        using (response)
        using (stream)
        {
            while (true)
            {
                TResponse? message;
                try
                {
                    message = await GrpcMessageFraming.ReadMessageAsync(stream, responseParser, _maxMessageSize, deadline.Token);
                    if (message is null)
                    {
                        ThrowIfTrailersNotOk(response);
                    }
                }
                catch (Exception ex) when (TranslateException(ex, timeout, cancellationToken) is { } translated)
                {
                    throw translated;
                }

                if (message is null)
                {
                    yield break;
                }

                yield return message;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _httpClient.Dispose();

    private async Task<HttpResponseMessage> SendAsync(string method, IMessage request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(method);
        var content = new ByteArrayContent(GrpcMessageFraming.Frame(request));
        content.Headers.ContentType = GrpcContentType;
        using var httpRequest = new HttpRequestMessage(HttpMethod.Post, new Uri(method.TrimStart('/'), UriKind.Relative))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        httpRequest.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        httpRequest.Headers.TryAddWithoutValidation("user-agent", "agentverse-dapr-grpc/1.0");
        if (timeout is { } t)
        {
            httpRequest.Headers.TryAddWithoutValidation("grpc-timeout", FormatTimeout(t));
        }

        if (_apiToken is not null)
        {
            httpRequest.Headers.TryAddWithoutValidation("dapr-api-token", _apiToken);
        }

        var response = await _httpClient.SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var status = MapHttpStatus(response.StatusCode);
            response.Dispose();
            throw new GrpcException(status, $"Bad gRPC response. HTTP status code: {(int)response.StatusCode}");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase))
        {
            response.Dispose();
            throw new GrpcException(GrpcStatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {mediaType}");
        }

        return response;
    }

    /// <summary>Formats a <c>grpc-timeout</c> value: at most 8 digits and a unit.</summary>
    internal static string FormatTimeout(TimeSpan timeout)
    {
        var ticks = Math.Max(0, timeout.Ticks);
        var milliseconds = ticks / TimeSpan.TicksPerMillisecond;
        if (ticks % TimeSpan.TicksPerMillisecond != 0 && ticks / 10 < 100_000_000)
        {
            return (ticks / 10).ToString(CultureInfo.InvariantCulture) + "u";
        }

        if (milliseconds < 100_000_000)
        {
            return milliseconds.ToString(CultureInfo.InvariantCulture) + "m";
        }

        var seconds = ticks / TimeSpan.TicksPerSecond;
        if (seconds < 100_000_000)
        {
            return seconds.ToString(CultureInfo.InvariantCulture) + "S";
        }

        return Math.Min(ticks / TimeSpan.TicksPerHour, 99_999_999).ToString(CultureInfo.InvariantCulture) + "H";
    }

    private static CancellationTokenSource CreateDeadline(TimeSpan? timeout, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout is { } t)
        {
            cts.CancelAfter(t);
        }

        return cts;
    }

    private static void ThrowIfTrailersNotOk(HttpResponseMessage response)
    {
        // TrailingHeaders are only populated once the body has been read to its end.
        if (!TryGetStatus(response.TrailingHeaders, out var status, out var message))
        {
            throw new GrpcException(GrpcStatusCode.Internal, "The response ended without a grpc-status trailer.");
        }

        if (status != GrpcStatusCode.OK)
        {
            throw new GrpcException(status, message);
        }
    }

    private static bool TryGetStatus(HttpHeaders headers, out GrpcStatusCode status, out string message)
    {
        status = GrpcStatusCode.Unknown;
        message = string.Empty;
        if (!headers.TryGetValues("grpc-status", out var values))
        {
            return false;
        }

        var raw = values.FirstOrDefault();
        status = int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out var code) ? (GrpcStatusCode)code : GrpcStatusCode.Unknown;
        if (headers.TryGetValues("grpc-message", out var messages))
        {
            message = GrpcStatusMessage.Decode(messages.FirstOrDefault());
        }

        return true;
    }

    private static GrpcStatusCode MapHttpStatus(HttpStatusCode statusCode) => statusCode switch
    {
        HttpStatusCode.BadRequest => GrpcStatusCode.Internal,
        HttpStatusCode.Unauthorized => GrpcStatusCode.Unauthenticated,
        HttpStatusCode.Forbidden => GrpcStatusCode.PermissionDenied,
        HttpStatusCode.NotFound => GrpcStatusCode.Unimplemented,
        HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout
            => GrpcStatusCode.Unavailable,
        _ => GrpcStatusCode.Unknown,
    };

    /// <summary>
    /// Maps transport failures to gRPC statuses. The caller's own cancellation stays an
    /// <see cref="OperationCanceledException"/>; a deadline becomes DEADLINE_EXCEEDED.
    /// </summary>
    private static GrpcException? TranslateException(Exception ex, TimeSpan? timeout, CancellationToken callerToken)
    {
        switch (ex)
        {
            case GrpcException:
                return null;
            case OperationCanceledException when callerToken.IsCancellationRequested:
                return null;
            case OperationCanceledException when timeout is not null:
                return new GrpcException(GrpcStatusCode.DeadlineExceeded, "Deadline Exceeded", ex);
            case OperationCanceledException:
                return new GrpcException(GrpcStatusCode.Cancelled, ex.Message, ex);
        }

        var protocolError = FindInner<HttpProtocolException>(ex);
        if (protocolError is not null)
        {
            // RST_STREAM / GOAWAY error codes: CANCEL (0x8) and REFUSED_STREAM (0x7).
            var status = protocolError.ErrorCode switch
            {
                0x8 => GrpcStatusCode.Cancelled,
                0x7 => GrpcStatusCode.Unavailable,
                _ => GrpcStatusCode.Internal,
            };
            return new GrpcException(status, protocolError.Message, ex);
        }

        return ex is HttpRequestException or IOException
            ? new GrpcException(GrpcStatusCode.Unavailable, ex.Message, ex)
            : null;
    }

    private static T? FindInner<T>(Exception? ex)
        where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T match)
            {
                return match;
            }
        }

        return null;
    }
}
