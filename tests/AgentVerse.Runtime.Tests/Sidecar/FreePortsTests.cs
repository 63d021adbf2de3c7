namespace AgentVerse.Runtime.Tests.Sidecar;

public sealed class FreePortsTests
{
    // A sidecar asked for port 0 twice once got the same port for HTTP and gRPC and failed to start.
    [Fact]
    public void Ports_picked_together_are_distinct()
    {
        for (var round = 0; round < 200; round++)
        {
            var ports = Runtime.Sidecar.Sidecar.FreePorts(2);
            Assert.Equal(2, ports.Distinct().Count());
        }
    }
}
