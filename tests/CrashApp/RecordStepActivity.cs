using System.Globalization;
using Dapr.Client;
using Dapr.Workflow;
using Microsoft.Extensions.Options;

namespace AgentVerse.CrashApp;

/// <summary>
/// One step: records its effect under <c>effect:{instanceId}:{step}</c> with first-write concurrency,
/// so a step that runs again after a crash (activities run at least once) finds the effect already
/// there and does not record it twice. Every execution is appended to the attempt log first.
/// </summary>
public sealed class RecordStepActivity(DaprClient dapr, IOptions<CrashAppOptions> options) : WorkflowActivity<int, int>
{
    private static readonly StateOptions FirstWrite = new() { Concurrency = ConcurrencyMode.FirstWrite };

    public override async Task<int> RunAsync(WorkflowActivityContext context, int step)
    {
        var settings = options.Value;
        var pid = Environment.ProcessId;
        await AppendAsync(settings.AttemptLog, $"attempt {context.InstanceId} {step} {pid}", CancellationToken.None);

        var key = $"effect:{context.InstanceId}:{step}";
        // First-write with no ETag: false when the key exists, i.e. an earlier run of this step recorded it.
        var recorded = await dapr.TrySaveStateAsync(settings.StoreName, key, new StepEffect(step, pid), "", FirstWrite);
        await AppendAsync(settings.AttemptLog, $"{(recorded ? "recorded" : "already-recorded")} {context.InstanceId} {step} {pid}", CancellationToken.None);

        await Task.Delay(settings.StepDelay);
        return 1;
    }

    private static Task AppendAsync(string path, string line, CancellationToken cancellationToken) =>
        File.AppendAllTextAsync(path, string.Create(CultureInfo.InvariantCulture, $"{line}\n"), cancellationToken);
}

/// <summary>The recorded effect of one step, and the process that recorded it.</summary>
public sealed record StepEffect(int Step, int Pid);
