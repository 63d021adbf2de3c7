using System.Threading.Channels;
using AgentVerse.ServiceDefaults.Dapr;
using Dapr.Client;
using Microsoft.Extensions.Options;

namespace AgentVerse.Tools.Execution;

/// <summary>
/// Records executions off the request path: a bounded channel (a full one makes callers wait, never drops) drained
/// by one background writer that saves each batch — the records (<c>tool-execution:{id}</c>) and every affected
/// user's <see cref="ExecutionIndex"/> — in a state transaction, then publishes the batch's
/// <c>tool.executed</c> events in one bulk publish. Stopping completes the channel and waits for the writer to drain it.
/// </summary>
public sealed class ExecutionRecorder : IHostedService
{
    private const int BatchSize = 100;
    private const int Attempts = 5;
    private const int PublishAttempts = 3;

    private readonly Channel<ToolExecutionRecord> _channel;
    private readonly DaprClient _dapr;
    private readonly ExecutionIndex _index;
    private readonly ToolsOptions _options;
    private readonly ILogger<ExecutionRecorder> _logger;
    private Task _writer = Task.CompletedTask;

    public ExecutionRecorder(DaprClient dapr, ExecutionIndex index, IOptions<ToolsOptions> options, ILogger<ExecutionRecorder> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _dapr = dapr;
        _index = index;
        _options = options.Value;
        _logger = logger;
        _channel = Channel.CreateBounded<ToolExecutionRecord>(new BoundedChannelOptions(_options.RecordQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public static string RecordKey(string executionId) => $"tool-execution:{executionId}";

    public ValueTask RecordAsync(ToolExecutionRecord record, CancellationToken cancellationToken)
    {
        if (_channel.Writer.TryWrite(record))
        {
            return ValueTask.CompletedTask;
        }

        return SlowAsync(record, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Not tied to the host's stopping token: the writer ends when the channel is completed and drained.
        _writer = Task.Run(WriteAllAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        await _writer.WaitAsync(cancellationToken);
    }

    private async ValueTask SlowAsync(ToolExecutionRecord record, CancellationToken cancellationToken)
    {
        try
        {
            await _channel.Writer.WriteAsync(record, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            // Shutting down: record inline rather than lose it.
            await PersistAsync([record], CancellationToken.None);
        }
    }

    private async Task WriteAllAsync()
    {
        var batch = new List<ToolExecutionRecord>(BatchSize);
        while (await _channel.Reader.WaitToReadAsync())
        {
            while (batch.Count < BatchSize && _channel.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            // Under load, a short wait turns a sidecar round trip per execution into one per batch.
            if (batch.Count < BatchSize && _options.RecordBatchDelayMs > 0 && !_channel.Reader.Completion.IsCompleted)
            {
                await Task.Delay(_options.RecordBatchDelayMs);
                while (batch.Count < BatchSize && _channel.Reader.TryRead(out var record))
                {
                    batch.Add(record);
                }
            }

            await PersistAsync(batch, CancellationToken.None);
            batch.Clear();
        }
    }

    private async Task PersistAsync(List<ToolExecutionRecord> batch, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                await SaveAsync(batch, cancellationToken);
                break;
            }
            catch (Exception ex)
            {
                // Whatever fails, the writer keeps going: a dead writer would fill the queue and stall every request.
                if (attempt == Attempts)
                {
                    _logger.LogError(ex, "Could not record {Count} tool executions", batch.Count);
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt), cancellationToken);
            }
        }

        await PublishAsync(batch, cancellationToken);
    }

    /// <summary>
    /// Publishes the batch's events in one bulk call; entries the broker refused (or all of them, when the call itself
    /// fails) are tried again, a bounded number of times, then logged and given up: the records are already saved.
    /// </summary>
    private async Task PublishAsync(List<ToolExecutionRecord> batch, CancellationToken cancellationToken)
    {
        List<ToolExecutedEvent> pending = [.. batch.Select(r => new ToolExecutedEvent(
            r.Id, r.ToolId, r.UserId, r.Outcome, r.Duration, r.StartTime, r.EndTime, r.TraceId, r.Error))];
        for (var attempt = 1; ; attempt++)
        {
            Exception? error = null;
            string? reason = null;
            try
            {
                var response = await _dapr.BulkPublishEventAsync(_options.PubSub, _options.ExecutedTopic, pending, cancellationToken: cancellationToken);
                if (response.FailedEntries.Count == 0)
                {
                    return;
                }

                pending = [.. response.FailedEntries.Select(f => f.Entry.EventData)];
                reason = response.FailedEntries[0].ErrorMessage;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                error = ex;
            }

            if (attempt == PublishAttempts)
            {
                _logger.LogWarning(error, "Could not publish tool.executed for {Count} executions, first {ExecutionId}: {Reason}",
                    pending.Count, pending[0].ExecutionId, reason ?? error?.Message);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50 * attempt * attempt), cancellationToken);
        }
    }

    private async Task SaveAsync(List<ToolExecutionRecord> batch, CancellationToken cancellationToken)
    {
        var operations = new List<StateTransactionRequest>(batch.Count + 4);
        operations.AddRange(batch.Select(r => StateOperations.Upsert(RecordKey(r.Id), r)));
        foreach (var user in batch.GroupBy(r => r.UserId))
        {
            operations.AddRange(await _index.AppendAsync(user.Key, [.. user.Select(r => r.Id)], cancellationToken));
        }

        await _dapr.ExecuteStateTransactionAsync(_options.StateStore, operations, cancellationToken: cancellationToken);
    }
}
