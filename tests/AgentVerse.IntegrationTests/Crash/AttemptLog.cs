namespace AgentVerse.IntegrationTests.Crash;

/// <summary>
/// The crash app's attempt log: one <c>attempt {instance} {step} {pid}</c> line per activity execution,
/// then <c>recorded …</c> when that execution wrote the effect or <c>already-recorded …</c> when it found it.
/// </summary>
public sealed record AttemptLog(IReadOnlyList<(string Kind, int Step, int Pid)> Entries)
{
    public static async Task<AttemptLog> ReadAsync(string path, string instanceId)
    {
        var entries = new List<(string, int, int)>();
        foreach (var line in File.Exists(path) ? await File.ReadAllLinesAsync(path) : [])
        {
            // A line cut short by the kill has fewer than four fields.
            if (line.Split(' ') is [var kind, var instance, var step, var pid] && instance == instanceId
                && int.TryParse(step, out var stepNumber) && int.TryParse(pid, out var pidNumber))
            {
                entries.Add((kind, stepNumber, pidNumber));
            }
        }

        return new AttemptLog(entries);
    }

    /// <summary>How many times each step was executed.</summary>
    public Dictionary<int, int> AttemptsByStep() =>
        Entries.Where(e => e.Kind == "attempt").GroupBy(e => e.Step).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>How many executions of each step wrote its effect (the sink allows one).</summary>
    public Dictionary<int, int> RecordsByStep() =>
        Entries.Where(e => e.Kind == "recorded").GroupBy(e => e.Step).ToDictionary(g => g.Key, g => g.Count());

    public override string ToString() => string.Join('\n', Entries.Select(e => $"{e.Kind} {e.Step} {e.Pid}"));
}
