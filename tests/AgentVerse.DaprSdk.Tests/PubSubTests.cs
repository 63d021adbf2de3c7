using System.Net.Http.Json;
using AgentVerse.SdkApp;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>Publishing with DaprClient to subscribers mapped with Dapr.AspNetCore (<c>WithTopic</c>, <c>UseCloudEvents</c>).</summary>
[Collection(SdkAppTests.Name)]
public sealed class PubSubTests(SdkAppRun run)
{
    private static Order NewOrder(int amount = 5) => new("order-" + Guid.NewGuid().ToString("N"), amount);

    [Fact]
    public async Task A_published_event_reaches_the_WithTopic_endpoint_unwrapped_from_its_CloudEvent()
    {
        var order = NewOrder(42);

        await run.Dapr.PublishEventAsync("pubsub", "orders", order);

        await EventuallyReceivedAsync("orders", order);
    }

    [Fact]
    public async Task A_subscriber_answering_RETRY_gets_the_message_again_until_it_takes_it()
    {
        var order = NewOrder();

        await run.Dapr.PublishEventAsync("pubsub", "flaky", order);

        await SdkAppRun.EventuallyAsync(async () => (await Attempts("flaky")).GetValueOrDefault(order.Id) >= 3);
        await Task.Delay(300);
        Assert.Equal(3, (await Attempts("flaky"))[order.Id]);
    }

    [Fact]
    public async Task A_dropped_message_goes_to_the_dead_letter_topic()
    {
        var order = NewOrder();

        await run.Dapr.PublishEventAsync("pubsub", "poison", order);

        await EventuallyReceivedAsync("poison-dead", order);
        Assert.Equal(1, (await Attempts("poison"))[order.Id]);
    }

    [Fact]
    public async Task Bulk_publish_delivers_every_entry()
    {
        var orders = Enumerable.Range(1, 3).Select(NewOrder).ToList();

        var response = await run.Dapr.BulkPublishEventAsync("pubsub", "orders", orders);

        Assert.Empty(response.FailedEntries);
        foreach (var order in orders)
        {
            await EventuallyReceivedAsync("orders", order);
        }
    }

    private async Task EventuallyReceivedAsync(string topic, Order order) =>
        await SdkAppRun.EventuallyAsync(async () => (await run.App.GetFromJsonAsync<List<Order>>($"http://{SdkAppRun.AppId}/inbox/{topic}"))!.Contains(order),
            because: $"{order.Id} did not arrive on {topic}. Output:\n{run.Output}");

    private async Task<Dictionary<string, int>> Attempts(string topic) =>
        (await run.App.GetFromJsonAsync<Dictionary<string, int>>($"http://{SdkAppRun.AppId}/attempts/{topic}"))!;
}
