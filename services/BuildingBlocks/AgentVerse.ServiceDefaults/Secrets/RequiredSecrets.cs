using Dapr;
using Dapr.Client;
using Grpc.Core;

namespace AgentVerse.ServiceDefaults.Secrets;

/// <summary>Reading a secret a service cannot run without, with an error that says which one and what to do.</summary>
public static class RequiredSecrets
{
    /// <summary>
    /// The value of secret <paramref name="name"/> in <paramref name="store"/> (the entry of that name, or the only
    /// one). Throws <see cref="InvalidOperationException"/> naming the secret when the store cannot give it or it is
    /// empty; a sidecar that cannot be reached is the SDK's <see cref="DaprException"/>, for the caller to try again.
    /// </summary>
    public static async Task<string> GetRequiredSecretAsync(this DaprClient dapr, string store, string name, CancellationToken cancellationToken)
    {
        Dictionary<string, string> values;
        try
        {
            values = await dapr.GetSecretAsync(store, name, cancellationToken: cancellationToken);
        }
        catch (DaprException e) when (e.InnerException is not RpcException { StatusCode: StatusCode.Unavailable or StatusCode.DeadlineExceeded })
        {
            var reason = e.InnerException is RpcException rpc ? rpc.Status.Detail : e.Message;
            throw new InvalidOperationException(
                $"Secret '{name}' cannot be read from secret store '{store}': {reason}. Provision it (a local run: 'agentverse up' does) and start again.", e);
        }

        return values.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value) ? value
            : values.Count == 1 && !string.IsNullOrWhiteSpace(values.Values.Single()) ? values.Values.Single()
            : throw new InvalidOperationException($"Secret '{name}' in secret store '{store}' is empty.");
    }
}
