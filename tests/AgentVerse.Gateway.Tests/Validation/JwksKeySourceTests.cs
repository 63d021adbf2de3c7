using System.Net;
using System.Security.Cryptography;
using System.Text;
using AgentVerse.ServiceDefaults.Authentication;
using Dapr.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Tests.Validation;

public sealed class JwksKeySourceTests : IDisposable
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakeSidecar _sidecar = new();
    private readonly DaprJwksKeySource _source;

    public JwksKeySourceTests()
    {
        _source = new DaprJwksKeySource(new InvocationClients(_sidecar),
            Options.Create(new AgentVerseAuthOptions { JwksRefreshSeconds = 300, JwksMinRefreshSeconds = 5 }), _time, NullLogger<DaprJwksKeySource>.Instance);
        _sidecar.Kids.Add("k1");
    }

    [Fact]
    public async Task Keys_are_fetched_through_Dapr_invocation_of_the_gateway_and_cached()
    {
        var keys = await _source.GetKeysAsync("k1", default);
        await _source.GetKeysAsync("k1", default);

        Assert.Equal("k1", Assert.Single(keys).KeyId);
        Assert.Equal(1, _sidecar.Calls);
        Assert.Equal("/v1.0/invoke/gateway/method/.well-known/jwks.json", _sidecar.LastPath);
    }

    [Fact]
    public async Task An_unknown_kid_refreshes_at_most_once_per_minimum_interval()
    {
        await _source.GetKeysAsync("k1", default);
        _sidecar.Kids.Add("k2");

        // Right after a fetch, a stream of unknown kids does not reach the gateway.
        for (var i = 0; i < 10; i++)
        {
            await _source.GetKeysAsync("forged", default);
        }

        Assert.Equal(1, _sidecar.Calls);

        _time.Advance(TimeSpan.FromSeconds(6));
        var keys = await _source.GetKeysAsync("k2", default);

        Assert.Equal(2, _sidecar.Calls);
        Assert.Contains(keys, k => k.KeyId == "k2");
    }

    [Fact]
    public async Task Known_keys_are_refreshed_after_the_refresh_period_and_kept_when_the_fetch_fails()
    {
        await _source.GetKeysAsync("k1", default);
        _sidecar.Fail = true;
        _time.Advance(TimeSpan.FromSeconds(301));

        var keys = await _source.GetKeysAsync("k1", default);

        Assert.Equal(2, _sidecar.Calls);
        Assert.Equal("k1", Assert.Single(keys).KeyId);
    }

    public void Dispose()
    {
        _source.Dispose();
        _sidecar.Dispose();
    }

    /// <summary>Invocation clients as ServiceDefaults builds them: the SDK's InvocationHandler, here in front of the fake sidecar.</summary>
    private sealed class InvocationClients(HttpMessageHandler sidecar) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) =>
            new(new InvocationHandler { DaprEndpoint = "http://127.0.0.1:3500", InnerHandler = sidecar }, disposeHandler: false);
    }

    private sealed class FakeSidecar : HttpMessageHandler
    {
        private readonly Dictionary<string, string> _keys = [];

        public List<string> Kids { get; } = [];

        public int Calls { get; private set; }

        public string? LastPath { get; private set; }

        public bool Fail { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Calls++;
            LastPath = request.RequestUri!.AbsolutePath;
            if (Fail)
            {
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.InternalServerError) { Content = new StringContent("{\"errorCode\":\"ERR_DIRECT_INVOKE\"}") });
            }

            var keys = Kids.Select(kid =>
            {
                if (!_keys.TryGetValue(kid, out var jwk))
                {
                    using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                    var q = key.ExportParameters(false).Q;
                    jwk = $$"""{"kty":"EC","crv":"P-256","x":"{{Base64UrlEncoder.Encode(q.X!)}}","y":"{{Base64UrlEncoder.Encode(q.Y!)}}","kid":"{{kid}}","use":"sig","alg":"ES256"}""";
                    _keys[kid] = jwk;
                }

                return jwk;
            });
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent($$"""{"keys":[{{string.Join(',', keys)}}]}""", Encoding.UTF8, "application/json"),
            });
        }
    }
}
