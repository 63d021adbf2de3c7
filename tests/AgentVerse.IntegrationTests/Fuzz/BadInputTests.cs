using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AgentVerse.IntegrationTests.Services;
using Xunit.Abstractions;

namespace AgentVerse.IntegrationTests.Fuzz;

/// <summary>
/// The whole platform on the local runtime in Development, as <c>up</c> runs it (where minimal APIs throw on bad
/// input), with generous rate limits and an admin and a user logged in.
/// </summary>
public sealed class FuzzPlatform : IAsyncLifetime
{
    public PlatformProcesses Platform { get; private set; } = null!;

    public HttpClient Gateway { get; private set; } = null!;

    public string AdminToken { get; private set; } = "";

    public string UserToken { get; private set; } = "";

    public int GatewayPort => Platform["Gateway"].Port;

    public async Task InitializeAsync()
    {
        Platform = await PlatformProcesses.StartAsync(new Dictionary<string, string>
        {
            ["Gateway__RateLimits__PerUserBurst"] = "1000000",
            ["Gateway__RateLimits__PerUserRequestsPerSecond"] = "1000000",
            ["Gateway__RateLimits__PerIpRequests"] = "1000000",
            ["Logging__LogLevel__Default"] = "Warning",
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
        }, withSidecars: true);
        Gateway = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{GatewayPort}/"),
            Timeout = TimeSpan.FromSeconds(20),
        };
        await WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        AdminToken = await LoginAsync();
        UserToken = await LoginAsync();
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (Platform is not null)
        {
            await Platform.DisposeAsync();
        }
    }

    /// <summary>Waits for the gateway's aggregate health to say every service is ready; fails with the last report.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await Gateway.GetAsync(new Uri("health", UriKind.Relative));
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == HttpStatusCode.OK && last.Contains("\"status\":\"healthy\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"the platform did not become healthy: {last}");
    }

    private async Task<string> LoginAsync()
    {
        var email = $"fuzz-{Guid.NewGuid():N}@example.com";
        const string password = "correct-horse-battery-9";
        using var registered = await Gateway.PostAsJsonAsync("api/auth/register", new { email, password });
        registered.EnsureSuccessStatusCode();
        using var login = await Gateway.PostAsJsonAsync("api/auth/login", new { email, password });
        login.EnsureSuccessStatusCode();
        return (await login.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}

/// <summary>
/// Bad input through the gateway never gets a 5xx. A fuzzer sends malformed requests to every route of every service's
/// OpenAPI document: none may get a 5xx or hang, and the platform must be healthy afterwards. Seeded
/// (AGENTVERSE_FUZZ_SEED) and bounded in count and time; a service with an OpenAPI document joins by itself. Named
/// cases pin the exact answers: binding failures name the field, framing and header faults are the client's 4xx.
/// </summary>
public sealed class BadInputTests(FuzzPlatform fuzz, ITestOutputHelper output) : IClassFixture<FuzzPlatform>
{
    private const int MaxRequests = 4_000;
    private static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Malformed_requests_to_every_documented_route_never_get_a_5xx_and_the_platform_stays_healthy()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("AGENTVERSE_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261201;
        output.WriteLine($"seed {seed} (AGENTVERSE_FUZZ_SEED)");
        var random = new Random(seed);
        var requests = new List<FuzzRequest>();
        foreach (var service in fuzz.Platform.Services)
        {
            var document = await service.Client.GetFromJsonAsync<JsonElement>(new Uri("openapi/v1.json", UriKind.Relative));
            // What the gateway routes: its own routes, and the services' /api/v1 and /mcp; not logout, which would end
            // the fuzzer's own session.
            var operations = OpenApiOperations.Read(service.Name, document)
                .Where(o => service.Name == "Gateway" || o.Path.StartsWith("/api/v1/", StringComparison.Ordinal) || o.Path.StartsWith("/mcp", StringComparison.Ordinal))
                .Where(o => o.Path != "/api/auth/logout")
                .ToList();
            output.WriteLine($"{service.Name}: {operations.Count} operations");
            var generator = new MalformedRequests(document, random);
            requests.AddRange(operations.SelectMany(generator.For));
        }

        Assert.NotEmpty(requests);
        var sent = requests.Take(MaxRequests).ToList();
        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        var examples = new ConcurrentDictionary<int, string>();
        var started = DateTime.UtcNow;
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < sent.Count && DateTime.UtcNow - started < Budget)
            {
                var request = sent[i];
                var outcome = await SendAsync(request, i % 2 == 0 ? fuzz.UserToken : fuzz.AdminToken);
                statuses.AddOrUpdate(outcome.Status, 1, (_, n) => n + 1);
                examples.TryAdd(outcome.Status, $"{request} -> {outcome.Body[..Math.Min(300, outcome.Body.Length)]}");
                if (outcome.Status is >= 500 or 0)
                {
                    failures.Enqueue($"{request} -> {(outcome.Status == 0 ? "no answer" : outcome.Status.ToString(CultureInfo.InvariantCulture))} {outcome.Body}");
                }
            }
        }));

        var done = Math.Min(next, sent.Count);
        output.WriteLine($"{done} of {requests.Count} requests in {(DateTime.UtcNow - started).TotalSeconds:F0} s: "
            + string.Join(", ", statuses.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}")));
        foreach (var (status, example) in examples.OrderBy(e => e.Key))
        {
            output.WriteLine($"e.g. {status}: {example}");
        }

        Assert.True(failures.IsEmpty, $"{failures.Count} requests got a 5xx or no answer:\n{string.Join('\n', failures.Take(60))}");
        Assert.True(done == sent.Count, $"only {done} of {sent.Count} requests were sent within {Budget}");
        await fuzz.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("a chunked body over the gateway's limit", 413)]
    [InlineData("malformed chunk framing", 400)]
    [InlineData("a non-ASCII header value", 400)]
    [InlineData("a NUL in a header value", 400)]
    [InlineData("a non-ASCII MCP protocol header", 400)]
    public async Task Malformed_framing_and_headers_get_a_4xx_from_the_gateway_never_a_5xx(string what, int expected)
    {
        var head = $"Host: 127.0.0.1\r\nAuthorization: Bearer {fuzz.UserToken}\r\n";
        byte[] request = what switch
        {
            "a chunked body over the gateway's limit" => Chunked("POST /api/v1/tools HTTP/1.1\r\n" + head, 4_500_000),
            "malformed chunk framing" => Encoding.ASCII.GetBytes(
                "POST /api/v1/tools HTTP/1.1\r\n" + head + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
            "a non-ASCII header value" => [.. Encoding.ASCII.GetBytes("GET /api/v1/tools HTTP/1.1\r\n" + head + "X-Note: caf"), 0xC3, 0xA9, .. "\r\n\r\n"u8],
            "a NUL in a header value" => [.. Encoding.ASCII.GetBytes("GET /api/v1/tools HTTP/1.1\r\n" + head + "X-Note: a"), 0x00, .. "b\r\n\r\n"u8],
            _ => [.. Encoding.ASCII.GetBytes("POST /mcp HTTP/1.1\r\n" + head + "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-"),
                0xE2, 0x80, 0x94, .. "\r\nContent-Length: 2\r\n\r\n{}"u8],
        };

        var status = await SendRawAsync(request);

        Assert.Equal(expected, status);
        await fuzz.WaitUntilHealthyAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData("POST", "/api/auth/register", "application/json", """{"email":5,"password":"x"}""", 400, "$.email", "The value does not have the type the OpenAPI document declares.")]
    [InlineData("POST", "/api/auth/login", "application/json", """{"email":"a@example.com","password":"x","rememberMe":"yes"}""", 400, "$.rememberMe", "The value does not have the type the OpenAPI document declares.")]
    [InlineData("POST", "/api/auth/register", "application/json", """{"email":"a@example.com","password":""", 400, "$.password")]
    [InlineData("POST", "/api/auth/register", "application/json", "[1,2,3]", 400, "$")]
    [InlineData("POST", "/api/auth/register", "application/json", "", 400, null)]
    [InlineData("POST", "/api/auth/register", "text/plain", """{"email":"a@example.com"}""", 415, null)]
    [InlineData("POST", "/api/auth/register", "application/json; charset=klingon", """{"email":"a@example.com"}""", 415, null)]
    [InlineData("POST", "/api/auth/login", "application/json", """{"email":"a||b@example.com","password":"x"}""", 401, null)]
    [InlineData("POST", "/api/v1/tools", "application/json", """{"name":"\ud800","description":"x"}""", 400, "$.name")]
    [InlineData("POST", "/api/v1/tools", "application/json; charset=klingon", """{"name":"x"}""", 415, null)]
    [InlineData("GET", "/api/v1/tools?page=abc", null, null, 400, "page")]
    [InlineData("GET", "/api/v1/tools?pageSize=99999999999", null, null, 400, "pageSize")]
    [InlineData("GET", "/api/v1/tools/a%7C%7Cb", null, null, 404, null)]
    [InlineData("GET", "/api/v1/tools/executions/" + "k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256k256", null, null, 404, null)]
    [InlineData("POST", "/mcp", "text/plain", "{}", 415, null)]
    [InlineData("POST", "/mcp", "application/json; charset=klingon", "{}", 415, null)]
    public async Task Bad_input_gets_a_4xx_problem_naming_the_field(
        string method, string pathAndQuery, string? contentType, string? body, int expected, string? field, string? message = null)
    {
        var (status, text) = await SendAsync(new FuzzRequest("named case", method, pathAndQuery, body is null ? null : Encoding.UTF8.GetBytes(body), contentType), fuzz.UserToken);

        Assert.True(status == expected, $"{status} {text}");
        // /mcp answers in JSON-RPC, the APIs in problem+json; a 401 says no more than that.
        if (status != 401 && pathAndQuery.StartsWith("/api/", StringComparison.Ordinal))
        {
            var problem = JsonDocument.Parse(text).RootElement;
            Assert.Equal(expected, problem.GetProperty("status").GetInt32());
            Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
            if (field is not null)
            {
                Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), text);
                Assert.DoesNotContain("System.", messages.ToString(), StringComparison.Ordinal);
                if (message is not null)
                {
                    Assert.Equal(message, messages[0].GetString());
                }
            }
        }
    }

    [Fact]
    public async Task A_query_parameter_repeated_200_times_is_a_400_naming_it()
    {
        var query = string.Join('&', Enumerable.Repeat("page=1", 200));

        var (status, text) = await SendAsync(new FuzzRequest("repeated", "GET", "/api/v1/tools?" + query), fuzz.UserToken);

        Assert.True(status == 400, $"{status} {text}");
        Assert.True(JsonDocument.Parse(text).RootElement.GetProperty("errors").TryGetProperty("page", out _), text);
    }

    private async Task<(int Status, string Body)> SendAsync(FuzzRequest request, string token)
    {
        var uri = new Uri($"http://127.0.0.1:{fuzz.GatewayPort}{request.PathAndQuery}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), uri);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (request.Body is { } body)
        {
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.Remove("Content-Type");
            if (request.ContentType is { } type)
            {
                message.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        if (request.Header is var (name, value))
        {
            // Content-* headers go on the content, the rest on the request.
            HttpHeaders headers = name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)
                ? (message.Content ??= new ByteArrayContent([])).Headers
                : message.Headers;
            headers.Remove(name);
            headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await fuzz.Gateway.SendAsync(message);
            var text = await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text.Length > 2_000 ? text[..2_000] : text);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <summary>Sends raw bytes to the gateway and reads the status code of its answer (0 when it closes without one).</summary>
    private async Task<int> SendRawAsync(byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, fuzz.GatewayPort);
        var stream = client.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await stream.WriteAsync(request, timeout.Token);
        }
        catch (IOException)
        {
            // The server may answer and close before it has read everything (an early 413); the answer is still there.
        }

        var buffer = new byte[256];
        var read = 0;
        try
        {
            while (read < 12 && (read += await stream.ReadAsync(buffer.AsMemory(read), timeout.Token)) > 0 && !buffer.AsSpan(0, read).Contains((byte)'\n'))
            {
            }
        }
        catch (IOException)
        {
        }

        var line = Encoding.ASCII.GetString(buffer, 0, read);
        return line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(9, 3), CultureInfo.InvariantCulture, out var status) ? status : 0;
    }

    private static byte[] Chunked(string head, int size)
    {
        using var body = new MemoryStream();
        body.Write(Encoding.ASCII.GetBytes(head + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"));
        var chunk = new byte[64 * 1024];
        Array.Fill(chunk, (byte)' ');
        for (var sent = 0; sent < size; sent += chunk.Length)
        {
            body.Write(Encoding.ASCII.GetBytes(chunk.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }

        body.Write("0\r\n\r\n"u8);
        return body.ToArray();
    }
}
