namespace AgentVerse.Testing;

/// <summary>Throw-away directories under the system temp directory.</summary>
public static class TempDirectory
{
    /// <summary>Creates <c>{temp}/{area}/{random}</c> and returns its path.</summary>
    public static string Create(string area = "agentverse-tests")
    {
        var directory = Path.Combine(Path.GetTempPath(), area, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        return directory;
    }

    /// <summary>Deletes <paramref name="directory"/> and its contents, best effort: a handle a store still holds is no reason to fail a test.</summary>
    public static void Delete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A temp dir; whatever is left is harmless.
        }
    }
}
