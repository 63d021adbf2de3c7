using AgentVerse.Runtime.Secrets;

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
    /// Creates <c>.agentverse/</c> (git-ignored state: the SQLite file, the secrets file) and provisions the platform's
    /// secrets (<see cref="PlatformSecrets"/>) into <c>.agentverse/secrets.json</c>, the file the local secret store
    /// reads: the first run makes them, later runs keep them, so tokens and encrypted data survive a restart.
    /// Returns the names of the secrets it added.
    /// </summary>
    public static Task<IReadOnlyList<string>> EnsureLocalDataAsync(string root, CancellationToken cancellationToken)
    {
        var data = Directory.CreateDirectory(Path.Combine(root, ".agentverse"));
        return PlatformSecrets.ProvisionAsync(Path.Combine(data.FullName, "secrets.json"), cancellationToken);
    }
}
