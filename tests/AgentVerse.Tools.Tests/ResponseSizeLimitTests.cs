using System.Net;
using System.Text;
using AgentVerse.Tools.Execution;
using AgentVerse.Tools.Mcp.Client;

namespace AgentVerse.Tools.Tests;

/// <summary>The MCP client's bound on what a remote server sends: a JSON reply whole, an event stream per event.</summary>
public sealed class ResponseSizeLimitTests
{
    private const int Limit = 1024;

    [Fact]
    public async Task A_stream_of_many_small_events_is_read_to_the_end_whatever_its_total()
    {
        var events = string.Concat(Enumerable.Range(0, 100).Select(i => $"event: message\r\ndata: {new string('x', 500)}\r\n\r\n"));

        var body = await ReadAsync(events, "text/event-stream");

        Assert.Equal(events.Length, body.Length);
    }

    [Fact]
    public async Task One_event_over_the_limit_fails_the_read()
    {
        var events = $"data: small\n\ndata: {new string('x', 600)}\ndata: {new string('y', 600)}\n\n";

        await Assert.ThrowsAsync<ResponseTooLargeException>(() => ReadAsync(events, "text/event-stream"));
    }

    [Fact]
    public async Task A_json_reply_counts_whole_even_with_blank_lines_and_no_content_length()
    {
        var json = "{\n\n" + string.Concat(Enumerable.Repeat("\"k\": \"" + new string('x', 100) + "\",\n\n", 20)) + "\"end\": 1}";

        await Assert.ThrowsAsync<ResponseTooLargeException>(() => ReadAsync(json, "application/json"));
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_before_reading()
    {
        using var handler = new ResponseSizeLimitHandler(Limit, new Reply(new string('x', Limit + 1), "application/json", declareLength: true));
        using var client = new HttpClient(handler);

        await Assert.ThrowsAsync<ResponseTooLargeException>(() => client.GetAsync("http://mcp.test/", HttpCompletionOption.ResponseHeadersRead));
    }

    [Fact]
    public async Task A_reply_within_the_limit_keeps_its_content_type()
    {
        using var handler = new ResponseSizeLimitHandler(Limit, new Reply("{\"ok\":true}", "application/json", declareLength: true));
        using var client = new HttpClient(handler);

        using var response = await client.GetAsync("http://mcp.test/");

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> ReadAsync(string body, string mediaType)
    {
        using var handler = new ResponseSizeLimitHandler(Limit, new Reply(body, mediaType, declareLength: false));
        using var client = new HttpClient(handler);
        using var response = await client.GetAsync("http://mcp.test/", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        return await reader.ReadToEndAsync();
    }

    /// <summary>Answers every request with <paramref name="body"/>, streamed in small reads like a socket would.</summary>
    private sealed class Reply(string body, string mediaType, bool declareLength) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(body)), bufferSize: 64);
            content.Headers.ContentType = new(mediaType);
            if (!declareLength)
            {
                content.Headers.ContentLength = null;
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }
}
