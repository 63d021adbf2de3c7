using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Mcp.Client;
using AgentVerse.Tools.Schema;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// Runs a tool whose arguments were already validated, under a timeout (the request's, capped by
/// <see cref="ToolsOptions.MaxTimeoutMs"/>), checks the result against the tool's output schema, and hands the
/// record to <see cref="ExecutionRecorder"/>.
/// </summary>
public sealed class ToolExecutor(
    CustomToolInvoker custom, McpToolInvoker mcp, ExecutionRecorder recorder, IOptions<ToolsOptions> options, TimeProvider time, ILogger<ToolExecutor> logger)
{
    public async Task<ExecuteToolResponse> ExecuteAsync(
        ResolvedTool tool, JsonElement parameters, int? timeoutMs, string userId, string traceId, string? sessionId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var limit = Math.Clamp(timeoutMs ?? options.Value.DefaultTimeoutMs, 1, options.Value.MaxTimeoutMs);
        var executionId = Guid.CreateVersion7().ToString("N");
        var startTime = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();

        JsonNode? result = null;
        string status;
        string? error = null;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(limit);
            try
            {
                result = tool switch
                {
                    { BuiltIn: { } builtIn } => await builtIn.ExecuteAsync(parameters, timeout.Token),
                    { Custom: { } definition } => await custom.InvokeAsync(definition, parameters, timeout.Token),
                    { McpServer: { } server } => await mcp.InvokeAsync(server, tool.Name, parameters, timeout.Token),
                    _ => throw new InvalidOperationException($"Tool {tool.Id} has nothing to run."),
                };
                CheckOutput(tool, result);
                status = ExecutionStatus.Success;
            }
            catch (ToolExecutionException ex)
            {
                (status, error, result) = (ExecutionStatus.Error, ex.Message, null);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                (status, error) = (ExecutionStatus.Timeout, $"The tool did not finish within {limit} ms.");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Tool {ToolId} failed", tool.Id);
                (status, error) = (ExecutionStatus.Error, "The tool failed unexpectedly.");
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var endTime = startTime + elapsed;
        await recorder.RecordAsync(new ToolExecutionRecord(
            executionId,
            tool.Id,
            userId,
            parameters,
            result,
            status == ExecutionStatus.Success ? "COMPLETED" : "FAILED",
            status,
            startTime,
            endTime,
            (int)Math.Ceiling(elapsed.TotalMilliseconds),
            traceId,
            error,
            sessionId), cancellationToken);

        return new ExecuteToolResponse(
            result,
            tool.Id,
            Math.Round(elapsed.TotalMilliseconds, 3),
            status,
            error,
            new ExecutionMetadata(tool.McpServer?.Url, tool.Version, tool.Capabilities, executionId),
            traceId);
    }

    /// <summary>A result that breaks the tool's declared output schema is a tool error, not data passed on.</summary>
    private static void CheckOutput(ResolvedTool tool, JsonNode? result)
    {
        if (tool.OutputSchema is not { ValueKind: JsonValueKind.Object } schema)
        {
            return;
        }

        var errors = JsonSchemaValidator.Validate(schema, JsonSerializer.SerializeToElement(result), "$.result");
        if (errors.Count > 0)
        {
            throw new ToolExecutionException(
                $"The tool's result does not match its output schema: {string.Join("; ", errors.Take(5).Select(e => $"{e.Path}: {e.Message}"))}");
        }
    }
}
