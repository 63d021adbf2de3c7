namespace AgentVerse.Cli.Launch;

/// <summary>
/// The launcher's one writer to the terminal. App lines are prefixed like <c>dapr run</c>
/// (<c>== APP - orders ==</c>), or, with a <see cref="TextLogRenderer"/>, shown in its text layout; while the
/// live status table owns the screen they are held back and written after it, so the table is never torn
/// by concurrent output.
/// </summary>
internal sealed class RunConsole
{
    private readonly Lock _gate = new();
    private readonly TextWriter _out;
    private readonly TextWriter _error;
    private readonly TextLogRenderer? _text;
    private List<(string Line, bool IsError)>? _held;

    /// <param name="output">Where app lines and the launcher's messages go.</param>
    /// <param name="error">Where the launcher's errors go.</param>
    /// <param name="interactive">Whether stdout is a terminal.</param>
    /// <param name="text">The text layout for <c>--log-format text</c>; null for <c>json</c>, app lines as they are.</param>
    public RunConsole(TextWriter output, TextWriter error, bool interactive, TextLogRenderer? text = null)
    {
        _out = output;
        _error = error;
        Interactive = interactive;
        _text = text;
    }

    /// <summary>True when stdout is a terminal: live table and colours; false in CI and tests: plain lines.</summary>
    public bool Interactive { get; }

    public void AppLine(string appId, string line, bool isError) =>
        Write(_text is null ? $"== APP - {appId} == {line}" : _text.RenderAppLine(appId, line), isError);

    /// <summary>A log event of <paramref name="appId"/>'s sidecar, in the text layout (see <see cref="RunConsoleLoggerProvider"/>).</summary>
    public void Log(string appId, LogEntry entry) =>
        Write((_text ?? throw new InvalidOperationException("runtime events go through RunConsole only in text mode")).Render(appId, entry), isError: false);

    public void Info(string message) => Write($"agentverse: {message}", isError: false);

    public void Fail(string message) => Write($"agentverse: error: {message}", isError: true);

    /// <summary>Lines written as they are and together, e.g. the next steps once <c>up</c> is ready.</summary>
    public void Block(string text) => Write(text, isError: false);

    /// <summary>Holds every line until <see cref="Release"/>; used while a live display owns the terminal.</summary>
    public void Hold()
    {
        lock (_gate)
        {
            _held ??= [];
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            var held = _held ?? [];
            _held = null;
            foreach (var (line, isError) in held)
            {
                WriteNow(line, isError);
            }
        }
    }

    private void Write(string line, bool isError)
    {
        lock (_gate)
        {
            if (_held is not null)
            {
                _held.Add((line, isError));
                return;
            }

            WriteNow(line, isError);
        }
    }

    private void WriteNow(string line, bool isError)
    {
        // Tests and CI read stdout; app stderr stays on stdout like dapr so one stream keeps the order.
        var writer = isError && line.StartsWith("agentverse:", StringComparison.Ordinal) ? _error : _out;
        writer.WriteLine(line);
        writer.Flush();
    }
}
