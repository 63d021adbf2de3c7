using System.CommandLine;
using AgentVerse.Cli;

using var signals = new Signals();
// The launcher handles SIGINT/SIGTERM itself (graceful, then forced), so System.CommandLine must not.
return await Commands.Build(signals).Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
