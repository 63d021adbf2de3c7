using System.Net;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace AgentVerse.Dapr.Tests.AppSide;

public sealed class AppApiTokenTests
{
    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("wrong", HttpStatusCode.Unauthorized)]
    [InlineData("s3cret-longer", HttpStatusCode.Unauthorized)]
    [InlineData("s3cret", HttpStatusCode.OK)]
    public async Task Requests_need_the_app_api_token_from_configuration(string? presented, HttpStatusCode expected)
    {
        await using var app = await StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "orders");
        if (presented is not null)
        {
            request.Headers.Add("dapr-api-token", presented);
        }

        using var response = await app.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
    }

    [Theory]
    [InlineData("healthz")]
    [InlineData("readyz")]
    public async Task Health_endpoints_need_no_token(string path)
    {
        await using var app = await StartAsync();

        using var response = await app.Client.GetAsync(new Uri(path, UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Without_a_configured_token_every_request_passes()
    {
        await using var app = await TestApp.StartAsync(web =>
        {
            web.UseDaprAppApiToken();
            web.MapPost("/orders", () => "ok");
        });

        using var response = await app.Client.PostAsync(new Uri("orders", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Task<TestApp> StartAsync() => TestApp.StartAsync(
        web =>
        {
            web.UseDaprAppApiToken();
            web.MapGet("/healthz", () => "healthy");
            web.MapGet("/readyz", () => "ready");
            web.MapPost("/orders", () => "ok");
        },
        builder => builder.Configuration["APP_API_TOKEN"] = "s3cret");
}
