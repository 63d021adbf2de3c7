using System.Text;
using Dapr;

namespace AgentVerse.DaprSdk.Tests;

/// <summary>Invocation through <c>CreateInvokeHttpClient</c>, secrets and metadata, as DaprClient reaches them.</summary>
[Collection(SdkAppTests.Name)]
public sealed class SidecarApiTests(SdkAppRun run)
{
    [Fact]
    public async Task CreateInvokeHttpClient_reaches_the_app_through_the_sidecar()
    {
        using var content = new StringContent("""{"hello":"world"}""", Encoding.UTF8, "application/json");

        using var response = await run.App.PostAsync($"http://{SdkAppRun.AppId}/echo", content);

        response.EnsureSuccessStatusCode();
        Assert.Equal("""{"hello":"world"}""", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Secrets_are_read_one_by_one_nested_and_in_bulk()
    {
        var password = await run.Dapr.GetSecretAsync("secretstore", "db-password");
        var nested = await run.Dapr.GetSecretAsync("secretstore", "api:key");
        var all = await run.Dapr.GetBulkSecretAsync("secretstore");

        Assert.Equal("s3cr3t", password["db-password"]);
        Assert.Equal("k-123", nested["api:key"]);
        Assert.Equal("s3cr3t", all["db-password"]["db-password"]);
    }

    [Fact]
    public async Task A_missing_secret_is_an_error()
    {
        await Assert.ThrowsAsync<DaprException>(() => run.Dapr.GetSecretAsync("secretstore", "no-such-secret"));
    }

    [Fact]
    public async Task Metadata_names_the_app_its_components_and_what_was_set()
    {
        await run.Dapr.SetMetadataAsync("judge", "dotnet-sdk");

        var metadata = await run.Dapr.GetMetadataAsync();

        Assert.Equal(SdkAppRun.AppId, metadata.Id);
        Assert.Contains(metadata.Components, c => c.Name == "wfstate" && c.Type == "state.sqlite" && c.Capabilities.Contains("ACTOR"));
        Assert.Contains(metadata.Components, c => c.Name == "pubsub" && c.Type == "pubsub.in-memory");
        Assert.Equal("dotnet-sdk", metadata.Extended["judge"]);
    }

    [Fact]
    public async Task The_sidecar_reports_healthy_to_the_sdk()
    {
        Assert.True(await run.Dapr.CheckHealthAsync());
        await run.Dapr.WaitForSidecarAsync();
    }
}
