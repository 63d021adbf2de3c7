namespace AgentVerse.Testing;

/// <summary>Where the repository and the built launcher are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The launcher built in the same configuration as the tests (bin/Debug or bin/Release).</summary>
    public static string CliDll { get; } = Path.Combine(Root, "tools", "AgentVerse.Cli", "bin", Configuration, "net10.0", "agentverse.dll");

    /// <summary>The crash tests' workflow app (tests/CrashApp), built in the same configuration.</summary>
    public static string CrashAppDll { get; } = Path.Combine(Root, "tests", "CrashApp", "bin", Configuration, "net10.0", "AgentVerse.CrashApp.dll");

    /// <summary>The build output of the app written only with the official Dapr SDK (tests/SdkApp).</summary>
    public static string SdkAppOutput { get; } = Path.Combine(Root, "tests", "SdkApp", "bin", Configuration, "net10.0");

    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AgentVerse.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("AgentVerse.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary directory for one test's run file and apps, deleted afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = Directory.CreateTempSubdirectory("agentverse-test-").FullName;
    }

    public string Path { get; }

    /// <summary>Writes <paramref name="text"/> to a file under the directory, creating folders as needed.</summary>
    public string Write(string relativePath, string text)
    {
        var full = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text);
        return full;
    }

    public string Dir(string relativePath) => Directory.CreateDirectory(System.IO.Path.Combine(Path, relativePath)).FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that was just killed may still hold a file for a moment; the OS cleans temp.
        }
    }
}
