using AgentVerse.Runtime.State;

namespace AgentVerse.Runtime.Tests.State;

public sealed class InMemoryStateStoreTests : StateStoreContractTests
{
    protected override IStateStore CreateStore(TimeProvider time) =>
        InMemoryStateStore.Create(TestComponents.Definition("state.in-memory"), time);

    [Fact]
    public void Features_are_etag_transactional_and_ttl()
    {
        Assert.Equal(StateStoreFeatures.ETag | StateStoreFeatures.Transactional | StateStoreFeatures.Ttl, Store.Features);
    }
}
