using System.Net;
using System.Net.Http.Headers;
using System.Text;
using AgentVerse.Dapr.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;

namespace AgentVerse.Dapr.Tests.AppSide;

public sealed class TopicResultsTests : IAsyncLifetime
{
    private TestApp app = null!;

    public async Task InitializeAsync() => app = await TestApp.StartAsync(web =>
    {
        web.UseCloudEvents();
        web.MapPost("/success", () => TopicResults.Success()).WithTopic("pubsub", "a");
        web.MapPost("/retry", () => TopicResults.Retry()).WithTopic("pubsub", "b");
        web.MapPost("/drop", () => TopicResults.Drop()).WithTopic("pubsub", "c");
        web.MapPost("/throws", string () => throw new InvalidOperationException("boom")).WithTopic("pubsub", "d");
    });

    public async Task DisposeAsync() => await app.DisposeAsync();

    [Theory]
    [InlineData("success", "SUCCESS")]
    [InlineData("retry", "RETRY")]
    [InlineData("drop", "DROP")]
    public async Task Topic_results_answer_200_with_the_dapr_status(string path, string status)
    {
        using var response = await DeliverAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"status":"{{status}}"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unhandled_exception_in_a_topic_handler_answers_500_which_dapr_retries()
    {
        using var response = await DeliverAsync("throws");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
    }

    private async Task<HttpResponseMessage> DeliverAsync(string path)
    {
        using var content = new StringContent("""{"id":"1","data":{}}""", Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/cloudevents+json");
        return await app.Client.PostAsync(new Uri(path, UriKind.Relative), content);
    }
}
