using System.Runtime.InteropServices;

namespace AgentVerse.Cli;

/// <summary>
/// Ctrl-C and SIGTERM: the first asks for a graceful stop (apps get SIGTERM and a grace period),
/// the second stops waiting and kills what is left.
/// </summary>
internal sealed class Signals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _kill = new();
    private readonly PosixSignalRegistration[] _registrations;

    public Signals()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Stop => _stop.Token;

    public CancellationToken Kill => _kill.Token;

    private void OnSignal(PosixSignalContext context)
    {
        // Keep the process alive: shutting down the apps is our job.
        context.Cancel = true;
        if (_stop.IsCancellationRequested)
        {
            _kill.Cancel();
        }
        else
        {
            _stop.Cancel();
        }
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _stop.Dispose();
        _kill.Dispose();
    }
}
