using AgentVerse.Tools.Execution;

namespace AgentVerse.Tools.Mcp.Client;

/// <summary>
/// Bounds what a remote MCP server can make this service buffer: a JSON reply as a whole, and each event of an
/// event stream (the GET stream lives for the session, so its total is not bounded, only each message on it).
/// </summary>
public sealed class ResponseSizeLimitHandler(int maxBytes, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var content = response.Content;
        if (content.Headers.ContentLength > maxBytes)
        {
            response.Dispose();
            throw new ResponseTooLargeException(maxBytes);
        }

        var perEvent = content.Headers.ContentType?.MediaType == "text/event-stream";
        var bounded = new StreamContent(new BoundedReadStream(await content.ReadAsStreamAsync(cancellationToken), maxBytes, perEvent));
        foreach (var (name, values) in content.Headers)
        {
            bounded.Headers.TryAddWithoutValidation(name, values);
        }

        response.Content = bounded;
        return response;
    }

    /// <summary>Counts what is read and fails the read that goes over the limit.</summary>
    private sealed class BoundedReadStream(Stream inner, int maxBytes, bool perEvent) : Stream
    {
        private long _counted;
        private bool _lineEmpty = true;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Count(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Count(ReadOnlySpan<byte> read)
        {
            if (!perEvent)
            {
                _counted += read.Length;
            }
            else
            {
                // An event ends at an empty line; CR is ignored so CRLF streams count the same. Checked byte by byte,
                // since one read may hold the end of an oversized event and the blank line after it.
                foreach (var b in read)
                {
                    if (b == (byte)'\n')
                    {
                        _counted = _lineEmpty ? 0 : _counted + 1;
                        _lineEmpty = true;
                    }
                    else if (b != (byte)'\r')
                    {
                        _lineEmpty = false;
                        if (++_counted > maxBytes)
                        {
                            throw new ResponseTooLargeException(maxBytes);
                        }
                    }
                }
            }

            return _counted > maxBytes ? throw new ResponseTooLargeException(maxBytes) : read.Length;
        }
    }
}
