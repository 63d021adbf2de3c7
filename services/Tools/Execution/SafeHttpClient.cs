using System.Net;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Execution;

/// <summary>What an outbound call answered (the body read up to the configured limit).</summary>
public sealed record OutboundResponse(int StatusCode, string? ContentType, byte[] Body, Uri FinalUri, int Redirects);

/// <summary>An outbound request: the headers are already filtered by the caller.</summary>
public sealed record OutboundRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, HttpContent? Content = null)
{
    /// <summary>Headers sent only to the original origin, never after a redirect to another one (an API key).</summary>
    public IReadOnlyDictionary<string, string> OriginBoundHeaders { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Outbound HTTP for tools, hardened against SSRF: the address actually connected to is checked by
/// <see cref="AddressPolicy"/> in <see cref="SocketsHttpHandler.ConnectCallback"/> (after DNS resolution, so a
/// name resolving to 127.0.0.1 is refused as the literal would be); redirects are followed here, at most
/// <see cref="OutboundHttpOptions.MaxRedirects"/>, each one connecting through the same check; no proxy, no
/// cookies; the body is read up to <see cref="OutboundHttpOptions.MaxResponseBytes"/>.
/// </summary>
public sealed class SafeHttpClient : IDisposable
{
    private readonly HttpClient _client;
    private readonly OutboundHttpOptions _options;

    public SafeHttpClient(AddressPolicy policy, IOptions<ToolsOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value.Http;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = policy.ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task<OutboundResponse> SendAsync(OutboundRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.TimeoutMs);

        var uri = request.Uri;
        var method = request.Method;
        var content = request.Content;
        var origin = Origin(uri);
        for (var redirects = 0; ; redirects++)
        {
            EnsureHttp(uri);
            using var message = new HttpRequestMessage(method, uri) { Content = content, Version = HttpVersion.Version11 };
            foreach (var (name, value) in request.Headers)
            {
                AddHeader(message, name, value);
            }

            if (Origin(uri) == origin)
            {
                foreach (var (name, value) in request.OriginBoundHeaders)
                {
                    AddHeader(message, name, value);
                }
            }

            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            }
            catch (HttpRequestException ex) when (FindRefusal(ex) is { } refusal)
            {
                throw refusal;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"The request took longer than {_options.TimeoutMs} ms.");
            }

            using (response)
            {
                if (IsRedirect(response.StatusCode) && response.Headers.Location is { } location)
                {
                    if (redirects >= _options.MaxRedirects)
                    {
                        throw new DestinationRefusedException($"More than {_options.MaxRedirects} redirects.");
                    }

                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    // 301/302/303 turn a POST into a GET without body, as browsers do; 307/308 repeat the request.
                    if (response.StatusCode is HttpStatusCode.SeeOther
                        || (method == HttpMethod.Post && response.StatusCode is HttpStatusCode.MovedPermanently or HttpStatusCode.Found))
                    {
                        method = HttpMethod.Get;
                        content = null;
                    }
                    else if (content is not null)
                    {
                        content = await CloneAsync(content, timeout.Token);
                    }

                    continue;
                }

                try
                {
                    var body = await ReadLimitedAsync(response.Content, _options.MaxResponseBytes, timeout.Token);
                    return new OutboundResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(), body, uri, redirects);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"The request took longer than {_options.TimeoutMs} ms.");
                }
            }
        }
    }

    public void Dispose() => _client.Dispose();

    private static DestinationRefusedException? FindRefusal(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is DestinationRefusedException refusal)
            {
                return refusal;
            }
        }

        return null;
    }

    private static void EnsureHttp(Uri uri)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new DestinationRefusedException("Only http and https URLs are allowed.");
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            throw new DestinationRefusedException("URLs with credentials are not allowed.");
        }
    }

    private static string Origin(Uri uri) => uri.GetLeftPart(UriPartial.Authority).ToUpperInvariant();

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static void AddHeader(HttpRequestMessage message, string name, string value)
    {
        if (!message.Headers.TryAddWithoutValidation(name, value) && message.Content is not null)
        {
            message.Content.Headers.Remove(name);
            message.Content.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private static async Task<HttpContent> CloneAsync(HttpContent content, CancellationToken cancellationToken)
    {
        var bytes = await content.ReadAsByteArrayAsync(cancellationToken);
        var clone = new ByteArrayContent(bytes);
        foreach (var header in content.Headers)
        {
            clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return clone;
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpContent content, int limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            throw new ResponseTooLargeException(limit);
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new ResponseTooLargeException(limit);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>The response body is larger than the configured limit.</summary>
public sealed class ResponseTooLargeException(int limit) : Exception($"The response is larger than {limit} bytes.")
{
    /// <summary>This exception in <paramref name="e"/> or what it wraps (the MCP SDK's transport may wrap it).</summary>
    public static ResponseTooLargeException? FoundIn(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is ResponseTooLargeException tooLarge)
            {
                return tooLarge;
            }
        }

        return null;
    }
}
