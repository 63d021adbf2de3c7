using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Google.Protobuf;

namespace AgentVerse.Dapr.Workflow.Grpc;

/// <summary>
/// gRPC length-prefixed message framing: a 1-byte compressed flag (always 0 here: no
/// <c>grpc-encoding</c> is negotiated) then a 4-byte big-endian length, then the message bytes.
/// Usable on both sides: <see cref="Stream"/> for <see cref="HttpClient"/>, pipes for Kestrel.
/// </summary>
public static class GrpcMessageFraming
{
    /// <summary>Size of the prefix before each message.</summary>
    public const int HeaderSize = 5;

    /// <summary>Default maximum message size, matching daprd's 4 MiB.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>Frames one message into a new array.</summary>
    public static byte[] Frame(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(1, 4), (uint)size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    /// <summary>Writes one framed message to <paramref name="writer"/> (for example <c>Response.BodyWriter</c>).</summary>
    public static void WriteMessage(IBufferWriter<byte> writer, IMessage message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        var size = message.CalculateSize();
        var span = writer.GetSpan(HeaderSize + size)[..(HeaderSize + size)];
        span[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(span.Slice(1, 4), (uint)size);
        message.WriteTo(span[HeaderSize..]);
        writer.Advance(HeaderSize + size);
    }

    /// <summary>Writes one framed message to <paramref name="writer"/> and flushes it to the peer.</summary>
    public static async ValueTask WriteMessageAsync(PipeWriter writer, IMessage message, CancellationToken cancellationToken = default)
    {
        WriteMessage(writer, message);
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Reads the next message from <paramref name="stream"/>; <see langword="null"/> at a clean end of
    /// stream. A truncated message, a compressed flag or an oversize length is a <see cref="GrpcException"/>.
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(
        Stream stream, MessageParser<T> parser, int maxMessageSize = DefaultMaxMessageSize, CancellationToken cancellationToken = default)
        where T : class, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(parser);
        var header = new byte[HeaderSize];
        var read = await ReadAtLeastAsync(stream, header, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < HeaderSize)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "The stream ended inside a message header.");
        }

        var length = ParseHeader(header, maxMessageSize);
        var body = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            if (await ReadAtLeastAsync(stream, body.AsMemory(0, length), cancellationToken) < length)
            {
                throw new GrpcException(GrpcStatusCode.Internal, "The stream ended inside a message.");
            }

            return parser.ParseFrom(body, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>
    /// Reads the next message from <paramref name="reader"/> (for example <c>Request.BodyReader</c>);
    /// <see langword="null"/> when the peer completed the body with no further message.
    /// </summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(
        PipeReader reader, MessageParser<T> parser, int maxMessageSize = DefaultMaxMessageSize, CancellationToken cancellationToken = default)
        where T : class, IMessage<T>
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(parser);
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length >= HeaderSize)
            {
                var length = ParseHeader(buffer, maxMessageSize);
                if (buffer.Length >= HeaderSize + length)
                {
                    var message = parser.ParseFrom(buffer.Slice(HeaderSize, length));
                    reader.AdvanceTo(buffer.GetPosition(HeaderSize + length));
                    return message;
                }
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                reader.AdvanceTo(buffer.End);
                if (buffer.Length == 0)
                {
                    return null;
                }

                throw new GrpcException(GrpcStatusCode.Internal, "The request body ended inside a message.");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static int ParseHeader(in ReadOnlySequence<byte> buffer, int maxMessageSize)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(header);
        return ParseHeader(header, maxMessageSize);
    }

    private static int ParseHeader(ReadOnlySpan<byte> header, int maxMessageSize)
    {
        if (header[0] != 0)
        {
            throw new GrpcException(GrpcStatusCode.Internal, "Received a compressed message, but no grpc-encoding was negotiated.");
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        if (length > (uint)maxMessageSize)
        {
            throw new GrpcException(
                GrpcStatusCode.ResourceExhausted,
                $"Received message larger than max ({length} vs. {maxMessageSize})");
        }

        return (int)length;
    }

    private static async ValueTask<int> ReadAtLeastAsync(Stream stream, Memory<byte> buffer, CancellationToken cancellationToken)
        => await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
}
