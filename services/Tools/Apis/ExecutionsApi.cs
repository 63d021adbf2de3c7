using System.Security.Claims;
using AgentVerse.ServiceDefaults.Dapr;
using AgentVerse.Tools.Execution;
using Dapr.Client;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Apis;

/// <summary>
/// <c>/api/v1/tools/executions</c>: the caller's own execution history (the <c>tool_executions</c> records), newest
/// first. Records are written just after the response, so a run may take a moment to appear.
/// </summary>
public static class ExecutionsApi
{
    public static RouteGroupBuilder MapExecutionsApi(this RouteGroupBuilder tools)
    {
        ArgumentNullException.ThrowIfNull(tools);
        tools.MapGet("/executions", ListAsync);
        tools.MapGet("/executions/{executionId}", GetAsync);
        return tools;
    }

    public static async Task<Ok<ExecutionList>> ListAsync(
        ClaimsPrincipal user, DaprClient dapr, ExecutionIndex index, IOptions<ToolsOptions> options, CancellationToken cancellationToken,
        string? toolId = null, int page = 1, int pageSize = 50)
    {
        var (userId, _) = user.Caller();
        page = Math.Max(page, 1);
        pageSize = Math.Clamp(pageSize, 1, 200);
        var store = options.Value.StateStore;
        var ids = await index.ReadAsync(userId, cancellationToken);
        async Task<List<ToolExecutionRecord>> LoadAsync(IEnumerable<string> wanted)
        {
            var items = await dapr.GetBulkStateOrEmptyAsync<ToolExecutionRecord>(store, [.. wanted.Select(ExecutionRecorder.RecordKey)], cancellationToken);
            return [.. items.Where(i => i.Value is not null).Select(i => i.Value!).OrderByDescending(r => r.StartTime)];
        }

        if (toolId is null)
        {
            return TypedResults.Ok(new ExecutionList(await LoadAsync(ids.Skip((page - 1) * pageSize).Take(pageSize)), ids.Count, page, pageSize));
        }

        // The index is by user only: a tool's runs are picked from all of the user's (at most UserIndexLimit).
        var matching = (await LoadAsync(ids)).Where(r => r.ToolId == toolId).ToList();
        return TypedResults.Ok(new ExecutionList([.. matching.Skip((page - 1) * pageSize).Take(pageSize)], matching.Count, page, pageSize));
    }

    /// <summary>One record: its user's, or any for an admin; anyone else gets a 404.</summary>
    public static async Task<Results<Ok<ToolExecutionRecord>, NotFound>> GetAsync(
        string executionId, ClaimsPrincipal user, DaprClient dapr, IOptions<ToolsOptions> options, CancellationToken cancellationToken)
    {
        var (userId, isAdmin) = user.Caller();
        var record = await dapr.GetStateAsync<ToolExecutionRecord?>(options.Value.StateStore, ExecutionRecorder.RecordKey(executionId), cancellationToken: cancellationToken);
        return record is not null && (record.UserId == userId || isAdmin) ? TypedResults.Ok(record) : TypedResults.NotFound();
    }
}

/// <summary><c>GET /api/v1/tools/executions</c>: <see cref="Total"/> counts before paging.</summary>
public sealed record ExecutionList(IReadOnlyList<ToolExecutionRecord> Executions, int Total, int Page, int PageSize);
