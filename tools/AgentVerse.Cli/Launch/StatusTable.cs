using Spectre.Console;

namespace AgentVerse.Cli.Launch;

/// <summary>The live status table shown on a terminal while the apps start.</summary>
internal static class StatusTable
{
    /// <summary>Redraws the table until <paramref name="until"/> completes, then leaves the final state on screen.</summary>
    public static async Task ShowWhileAsync(IReadOnlyList<AppStatus> statuses, Task until)
    {
        await AnsiConsole.Live(Build(statuses)).AutoClear(false).StartAsync(async context =>
        {
            while (!until.IsCompleted)
            {
                context.UpdateTarget(Build(statuses));
                await Task.WhenAny(until, Task.Delay(250));
            }

            context.UpdateTarget(Build(statuses));
        });
    }

    public static Table Build(IReadOnlyList<AppStatus> statuses)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("App").AddColumn("State").AddColumn("App port")
            .AddColumn("Sidecar HTTP").AddColumn("Sidecar gRPC").AddColumn("Command");
        foreach (var s in statuses)
        {
            var state = s.State switch
            {
                AppState.Ready => "[green]ready[/]",
                AppState.Exited => $"[red]{Markup.Escape(s.Detail)}[/]",
                _ => $"[yellow]{Markup.Escape(s.Detail)}[/]",
            };
            table.AddRow(
                Markup.Escape(s.App.AppId),
                state,
                s.App.AppPort?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-",
                s.DaprHttpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                s.DaprGrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(s.App.Command.Count > 0 ? string.Join(' ', s.App.Command) : "(sidecar only)"));
        }

        return table;
    }
}
