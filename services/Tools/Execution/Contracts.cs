using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.Execution;

/// <summary>Body of <c>POST /api/v1/tools/{toolId}/execute</c>.</summary>
public sealed record ExecuteToolRequest(JsonElement? Parameters, ExecutionContextInfo? Context, int? Timeout);

/// <summary>Optional caller context of an execution.</summary>
public sealed record ExecutionContextInfo(string? SessionId, string? UserId, string? TraceId);

/// <summary>What an execution produced; <see cref="Status"/> is <c>success</c>, <c>error</c> or <c>timeout</c>.</summary>
public sealed record ExecuteToolResponse(
    JsonNode? Result,
    string ToolId,
    double ExecutionTime,
    string Status,
    string? Error,
    ExecutionMetadata Metadata,
    string TraceId);

public sealed record ExecutionMetadata(string? ServerUrl, string Version, IReadOnlyList<string> Capabilities, string ExecutionId);

/// <summary>One execution as stored (<c>tool-execution:{id}</c>): the <c>tool_executions</c> fields plus the user.</summary>
public sealed record ToolExecutionRecord(
    string Id,
    string ToolId,
    string UserId,
    JsonElement Input,
    JsonNode? Output,
    string Status,
    string Outcome,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    int Duration,
    string TraceId,
    string? Error,
    string? SessionId);

/// <summary>The <c>tool.executed</c> event (inputs and outputs stay in the record: they may be sensitive).</summary>
public sealed record ToolExecutedEvent(
    string ExecutionId,
    string ToolId,
    string UserId,
    string Status,
    int Duration,
    DateTimeOffset StartTime,
    DateTimeOffset EndTime,
    string TraceId,
    string? Error);

public static class ExecutionStatus
{
    public const string Success = "success";
    public const string Error = "error";
    public const string Timeout = "timeout";
}
