using System.Net;
using AgentVerse.Dapr.Tests.Infrastructure;

namespace AgentVerse.Dapr.Tests.Client;

/// <summary>State calls against <see cref="RecordingSidecar"/>: what goes on the wire and how replies are read.</summary>
public sealed class StateWireFormatTests : RecordingSidecarTests
{
    public record Widget(string Name, int Size);

    [Fact]
    public async Task Save_posts_one_item_with_camel_case_value_options_metadata_and_the_api_token()
    {
        await Client.SaveStateAsync(
            "statestore",
            "widget 1",
            new Widget("gear", 3),
            new StateOptions { Concurrency = ConcurrencyMode.LastWrite, Consistency = ConsistencyMode.Strong },
            new Dictionary<string, string> { ["ttlInSeconds"] = "60" });

        var request = Sidecar.SingleRequest;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1.0/state/statestore", request.RawTarget);
        Assert.Equal("application/json", request.Header("Content-Type"));
        Assert.Equal("test-token", request.Header("dapr-api-token"));
        Assert.Equal(
            """[{"key":"widget 1","value":{"name":"gear","size":3},"metadata":{"ttlInSeconds":"60"},"options":{"concurrency":"last-write","consistency":"strong"}}]""",
            request.BodyText);
    }

    [Fact]
    public async Task Get_reads_the_value_and_the_unquoted_etag_and_sends_consistency_and_metadata_in_the_query()
    {
        Sidecar.RepliesWith(200, """{"name":"gear","size":3}""", headers: ("ETag", "7"));

        var (value, etag) = await Client.GetStateAndETagAsync<Widget>(
            "statestore", "w/1", ConsistencyMode.Strong, new Dictionary<string, string> { ["partitionKey"] = "p 1" });

        Assert.Equal(new Widget("gear", 3), value);
        Assert.Equal("7", etag);
        Assert.Equal("GET", Sidecar.SingleRequest.Method);
        Assert.Equal("/v1.0/state/statestore/w%2F1?consistency=strong&metadata.partitionKey=p%201", Sidecar.SingleRequest.RawTarget);
    }

    [Fact]
    public async Task Get_of_a_missing_key_returns_default_on_204()
    {
        Assert.Null(await Client.GetStateAsync<Widget>("statestore", "missing"));
        Assert.Equal(0, await Client.GetStateAsync<int>("statestore", "missing"));
    }

    [Fact]
    public async Task Bulk_get_reads_the_data_field_in_request_order()
    {
        Sidecar.RepliesWith(200, """[{"key":"a","data":{"name":"gear","size":1},"etag":"1"},{"key":"b"},{"key":"c","error":"boom"}]""");

        var typed = await Client.GetBulkStateAsync<Widget>("statestore", ["a", "b", "c"], parallelism: 2);
        var raw = await Client.GetBulkStateAsync("statestore", ["a", "b", "c"]);

        Assert.Equal(
            [new BulkStateItem<Widget>("a", new Widget("gear", 1), "1"), new BulkStateItem<Widget>("b", null, ""), new BulkStateItem<Widget>("c", null, "", "boom")],
            typed);
        Assert.Equal("""{"name":"gear","size":1}""", raw[0].Value);
        Assert.Equal("", raw[1].Value);
        Assert.Equal("/v1.0/state/statestore/bulk", Sidecar.Requests[0].RawTarget);
        Assert.Equal("""{"keys":["a","b","c"],"parallelism":2}""", Sidecar.Requests[0].BodyText);
    }

    [Fact]
    public async Task Save_with_stale_etag_returns_false()
    {
        Sidecar.RepliesWith(409, """{"errorCode":"ERR_STATE_SAVE","message":"possible etag mismatch"}""");

        var saved = await Client.TrySaveStateAsync("statestore", "k", "v", "3");

        Assert.False(saved);
        Assert.Equal("""[{"key":"k","value":"v","etag":"3","options":{"concurrency":"first-write"}}]""", Sidecar.SingleRequest.BodyText);
    }

    [Fact]
    public async Task Save_with_current_etag_returns_true()
    {
        Assert.True(await Client.TrySaveStateAsync("statestore", "k", 1, "3"));
    }

    [Fact]
    public async Task Try_delete_sends_the_etag_as_if_match_and_returns_false_on_409()
    {
        Sidecar.RepliesWith(409, """{"errorCode":"ERR_STATE_DELETE","message":"etag mismatch"}""");

        var deleted = await Client.TryDeleteStateAsync("statestore", "k", "5");

        Assert.False(deleted);
        var request = Sidecar.SingleRequest;
        Assert.Equal("DELETE", request.Method);
        Assert.Equal("/v1.0/state/statestore/k?concurrency=first-write", request.RawTarget);
        Assert.Equal("5", request.Header("If-Match"));
    }

    [Fact]
    public async Task Delete_sends_no_if_match_and_passes_metadata()
    {
        await Client.DeleteStateAsync("statestore", "k", metadata: new Dictionary<string, string> { ["partitionKey"] = "p" });

        Assert.Equal("/v1.0/state/statestore/k?metadata.partitionKey=p", Sidecar.SingleRequest.RawTarget);
        Assert.Null(Sidecar.SingleRequest.Header("If-Match"));
    }

    [Fact]
    public async Task Transaction_posts_operations_with_etags_and_metadata()
    {
        await Client.ExecuteStateTransactionAsync(
            "statestore",
            [
                StateTransactionRequest.Upsert("a", new Widget("gear", 1), etag: "2", metadata: new Dictionary<string, string> { ["ttlInSeconds"] = "5" }),
                StateTransactionRequest.Delete("b"),
            ],
            new Dictionary<string, string> { ["partitionKey"] = "p" });

        Assert.Equal("/v1.0/state/statestore/transaction", Sidecar.SingleRequest.RawTarget);
        Assert.Equal(
            """{"operations":[{"operation":"upsert","request":{"key":"a","value":{"name":"gear","size":1},"etag":"2","metadata":{"ttlInSeconds":"5"}}},{"operation":"delete","request":{"key":"b"}}],"metadata":{"partitionKey":"p"}}""",
            Sidecar.SingleRequest.BodyText);
    }

    [Fact]
    public async Task Sidecar_errors_become_dapr_api_exceptions_with_code_status_and_body()
    {
        const string body = """{"errorCode":"ERR_STATE_STORE_NOT_FOUND","message":"state store nope is not found","details":[]}""";
        Sidecar.RepliesWith(400, body);

        var error = await Assert.ThrowsAsync<DaprApiException>(() => Client.SaveStateAsync("nope", "k", 1));

        Assert.Equal("ERR_STATE_STORE_NOT_FOUND", error.ErrorCode);
        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal(body, error.ResponseBody);
        Assert.Contains("state store nope is not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plain_text_401_for_a_bad_token_has_the_unauthorized_error_code()
    {
        Sidecar.RepliesWith(401, "invalid api token", "text/plain");

        var error = await Assert.ThrowsAsync<DaprApiException>(() => Client.GetStateAsync<int>("statestore", "k"));

        Assert.Equal(DaprApiException.UnauthorizedErrorCode, error.ErrorCode);
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("invalid api token", error.ResponseBody);
    }

    [Fact]
    public async Task A_client_without_a_token_sends_no_token_header()
    {
        var tokenless = Sidecar.CreateClient(apiToken: null);

        await tokenless.SaveStateAsync("statestore", "k", 1);

        Assert.Null(Sidecar.SingleRequest.Header("dapr-api-token"));
    }
}
