using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using Google.Protobuf;
using AgentVerse.Dapr.Workflow.Grpc;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// gRPC over HTTP/2 by hand (grpc/grpc doc/PROTOCOL-HTTP2.md): 5-byte length-prefixed messages in the
/// body, and the status in trailers (or in the headers when nothing was sent: "Trailers-Only").
/// </summary>
internal static class GrpcWire
{
    /// <summary>daprd's default <c>--max-body-size</c>; every turn carries the full history, so this bounds it.</summary>
    public const int MaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Reads the whole request body (unary and server-streaming calls send one message, then END_STREAM).</summary>
    public static async Task<T> ReadSingleMessageAsync<T>(PipeReader reader, MessageParser<T> parser, CancellationToken cancellationToken)
        where T : IMessage<T>
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > MaxMessageSize + 5)
            {
                throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"grpc: received message larger than max ({buffer.Length - 5} vs. {MaxMessageSize})");
            }
            if (!result.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            try
            {
                return Parse(buffer, parser);
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }
        }
    }

    private static T Parse<T>(ReadOnlySequence<byte> buffer, MessageParser<T> parser)
        where T : IMessage<T>
    {
        if (buffer.Length < 5)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "grpc: request carried no message");
        }
        Span<byte> header = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(header);
        if (header[0] != 0)
        {
            // No grpc-encoding is ever negotiated with this server, so a compressed frame is a protocol error.
            throw new GrpcException(GrpcStatusCode.Internal, "grpc: compressed messages are not supported");
        }
        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > MaxMessageSize)
        {
            throw new GrpcException(GrpcStatusCode.ResourceExhausted, $"grpc: received message larger than max ({length} vs. {MaxMessageSize})");
        }
        if (buffer.Length - 5 < length)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "grpc: request message was truncated");
        }
        try
        {
            return parser.ParseFrom(buffer.Slice(5, length));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "grpc: failed to unmarshal the request: " + e.Message);
        }
    }

    /// <summary>Writes one framed message and flushes, so a streamed item leaves at once.</summary>
    public static async Task WriteMessageAsync(HttpResponse response, IMessage message, CancellationToken cancellationToken)
    {
        if (!response.HasStarted)
        {
            await response.StartAsync(cancellationToken);
        }
        await GrpcMessageFraming.WriteMessageAsync(response.BodyWriter, message, cancellationToken);
    }

    /// <summary>The <c>grpc-timeout</c> header (e.g. <c>30S</c>, <c>100m</c>), or null when absent or malformed.</summary>
    public static TimeSpan? ParseTimeout(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length < 2 || value.Length > 9
            || !long.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
        {
            return null;
        }
        return value[^1] switch
        {
            'H' => TimeSpan.FromHours(amount),
            'M' => TimeSpan.FromMinutes(amount),
            'S' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMilliseconds(amount),
            'u' => TimeSpan.FromMicroseconds(amount),
            'n' => TimeSpan.FromTicks(amount / 100),
            _ => null,
        };
    }

    public static void PrepareResponse(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
    }

    /// <summary>Ends the call with a status: in trailers after a body, or Trailers-Only before one (as grpc-dotnet does).</summary>
    public static void SetStatus(HttpResponse response, GrpcStatusCode code, string? message = null)
    {
        var status = ((int)code).ToString(CultureInfo.InvariantCulture);
        if (!response.HasStarted)
        {
            response.Headers["grpc-status"] = status;
            if (!string.IsNullOrEmpty(message))
            {
                response.Headers["grpc-message"] = PercentEncode(message);
            }
            return;
        }
        response.AppendTrailer("grpc-status", status);
        if (!string.IsNullOrEmpty(message))
        {
            response.AppendTrailer("grpc-message", PercentEncode(message));
        }
    }

    private static string PercentEncode(string message) => GrpcStatusMessage.Encode(message);
}
