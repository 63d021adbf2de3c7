namespace AgentVerse.Cli;

/// <summary>Finds the repository root (the directory holding <c>AgentVerse.sln</c>) and the local data folder.</summary>
internal static class RepoLayout
{
    public const string SolutionFile = "AgentVerse.sln";

    /// <summary>Walks up from the working directory, then from the launcher's own location (for <c>dotnet run --project</c> from elsewhere).</summary>
    public static string? FindRoot(string? start = null)
    {
        foreach (var from in new[] { start ?? Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Creates <c>.agentverse/</c> (git-ignored state: the SQLite file, the secrets file) and an empty
    /// <c>secrets.json</c>: the local.file secret store refuses to start without its file.
    /// </summary>
    public static async Task EnsureLocalDataAsync(string root, CancellationToken cancellationToken)
    {
        var data = Directory.CreateDirectory(Path.Combine(root, ".agentverse"));
        var secrets = Path.Combine(data.FullName, "secrets.json");
        if (!File.Exists(secrets))
        {
            await File.WriteAllTextAsync(secrets, "{}\n", cancellationToken);
        }
    }
}
