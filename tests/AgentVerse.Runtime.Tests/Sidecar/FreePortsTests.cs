namespace AgentVerse.Runtime.Tests.Sidecar;

public sealed class FreePortsTests
{
    // A sidecar asked for port 0 twice once got the same port for HTTP and gRPC and failed to start.
    [Fact]
    public void Ports_picked_together_are_distinct()
    {
        for (var round = 0; round < 200; round++)
        {
            Assert.Equal(2, LoopbackPorts.Take(2).Distinct().Count());
        }
    }

    // Test runs pick a service's port and then its sidecar's (or two services' ports) one call at a time; the kernel
    // readily gives the next probe the port the last one just freed, and the second listener then fails to bind.
    [Fact]
    public void Ports_picked_one_at_a_time_never_repeat_within_a_process()
    {
        var ports = Enumerable.Range(0, 1500).Select(_ => LoopbackPorts.Take()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
    }
}
