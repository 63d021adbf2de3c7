namespace AgentVerse.Runtime.Tests.Components;

/// <summary>A throwaway resources directory for one test.</summary>
internal sealed class ResourceDirectory : IDisposable
{
    public ResourceDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "av-components-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string fileName, string content)
    {
        var file = System.IO.Path.Combine(Path, fileName);
        File.WriteAllText(file, content);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
