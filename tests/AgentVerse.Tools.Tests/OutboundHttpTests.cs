using System.Net;
using System.Text.Json;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Execution;
using AgentVerse.Testing;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Tests;

/// <summary>The SSRF guard in process: the address policy, and http_request against a loopback server allow-listed by endpoint.</summary>
public sealed class OutboundHttpTests : IAsyncLifetime
{
    private TargetServer _target = null!;
    private SafeHttpClient _http = null!;
    private HttpRequestTool _tool = null!;

    public async Task InitializeAsync()
    {
        _target = await TargetServer.StartAsync();
        var options = new ToolsOptions();
        options.Http.AllowedEndpoints.Add($"127.0.0.1:{_target.Port}");
        options.Http.MaxResponseBytes = 1024 * 1024;
        options.Http.TimeoutMs = 2_000;
        var wrapped = Options.Create(options);
        _http = new SafeHttpClient(new AddressPolicy(wrapped), wrapped);
        _tool = new HttpRequestTool(_http, wrapped);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _target.DisposeAsync();
    }

    private Task<System.Text.Json.Nodes.JsonNode?> RunAsync(object parameters) =>
        _tool.ExecuteAsync(JsonSerializer.SerializeToElement(parameters), default).AsTask();

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.1.2.3")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.5.4")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("::")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    public void The_address_policy_refuses_internal_addresses(string address)
    {
        Assert.False(new AddressPolicy(Options.Create(new ToolsOptions())).IsAllowed(IPAddress.Parse(address), 80));
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("1.1.1.1")]
    [InlineData("2606:4700:4700::1111")]
    public void The_address_policy_allows_public_addresses(string address)
    {
        Assert.True(new AddressPolicy(Options.Create(new ToolsOptions())).IsAllowed(IPAddress.Parse(address), 443));
    }

    [Fact]
    public void An_allow_listed_endpoint_opens_only_that_port_and_an_allow_listed_network_the_whole_range()
    {
        var options = new ToolsOptions();
        options.Http.AllowedEndpoints.Add("127.0.0.1:8080");
        options.Http.AllowedNetworks.Add("10.1.0.0/16");
        var policy = new AddressPolicy(Options.Create(options));
        Assert.True(policy.IsAllowed(IPAddress.Loopback, 8080));
        Assert.False(policy.IsAllowed(IPAddress.Loopback, 8081));
        Assert.True(policy.IsAllowed(IPAddress.Parse("10.1.2.3"), 1));
        Assert.False(policy.IsAllowed(IPAddress.Parse("10.2.0.1"), 1));
    }

    [Theory]
    [InlineData("http://127.0.0.1/")]
    [InlineData("http://10.1.2.3/")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[::1]/")]
    [InlineData("http://0.0.0.0/")]
    [InlineData("http://localhost/")]
    [InlineData("http://2130706433/")]
    [InlineData("http://0x7f.1/")]
    public async Task Http_request_refuses_internal_destinations(string url)
    {
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url }));
        Assert.Contains("Refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_refuses_a_dns_name_that_resolves_to_loopback()
    {
        // The name is resolved in the connect callback and every address it gives is checked before connecting.
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = $"http://localhost:{_target.Port + 1}/" }));
        Assert.Contains("Refused to connect to localhost", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_reaches_an_allow_listed_endpoint()
    {
        var result = await RunAsync(new { url = _target.Url("/json").ToString(), headers = new Dictionary<string, string> { ["Accept"] = "application/json" } });
        Assert.Equal(200, result!["status"]!.GetValue<int>());
        Assert.Equal("b", result["body"]!["items"]![1]!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Http_request_posts_a_body_with_an_allowed_content_type()
    {
        var result = await RunAsync(new { url = _target.Url("/echo").ToString(), method = "POST", body = "{\"a\":1}", headers = new Dictionary<string, string> { ["Content-Type"] = "application/json" } });
        Assert.Equal("POST", result!["body"]!["method"]!.GetValue<string>());
        Assert.Equal("{\"a\":1}", result["body"]!["body"]!.GetValue<string>());
    }

    [Fact]
    public async Task Http_request_refuses_a_redirect_to_loopback_from_an_allow_listed_server()
    {
        var to = Uri.EscapeDataString($"http://127.0.0.1:{_target.Port + 1}/");
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = _target.Url($"/redirect?to={to}").ToString() }));
        Assert.Contains("Refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_refuses_a_redirect_to_the_metadata_address()
    {
        var to = Uri.EscapeDataString("http://169.254.169.254/latest/meta-data/");
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = _target.Url($"/redirect?to={to}").ToString() }));
        Assert.Contains("Refused", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_follows_at_most_five_redirects()
    {
        var url = _target.Url("/json").ToString();
        for (var i = 0; i < 5; i++)
        {
            url = _target.Url($"/redirect?to={Uri.EscapeDataString(url)}").ToString();
        }

        Assert.Equal(200, (await RunAsync(new { url }))!["status"]!.GetValue<int>());
        var sixth = _target.Url($"/redirect?to={Uri.EscapeDataString(url)}").ToString();
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = sixth }));
        Assert.Contains("redirects", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_refuses_a_redirect_to_another_scheme()
    {
        var to = Uri.EscapeDataString("file:///etc/passwd");
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = _target.Url($"/redirect?to={to}").ToString() }));
        Assert.Contains("http and https", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_limits_the_response_size()
    {
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() => RunAsync(new { url = _target.Url("/big").ToString() }));
        Assert.Contains("larger than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Http_request_limits_the_time()
    {
        await Assert.ThrowsAsync<TimeoutException>(() => RunAsync(new { url = _target.Url("/slow").ToString() }));
    }

    [Theory]
    [InlineData("Authorization")]
    [InlineData("Cookie")]
    [InlineData("Host")]
    [InlineData("X-Forwarded-For")]
    public async Task Http_request_refuses_headers_outside_the_allow_list(string header)
    {
        var error = await Assert.ThrowsAsync<ToolExecutionException>(() =>
            RunAsync(new { url = _target.Url("/echo").ToString(), headers = new Dictionary<string, string> { [header] = "x" } }));
        Assert.Contains("not allowed", error.Message, StringComparison.Ordinal);
    }
}
