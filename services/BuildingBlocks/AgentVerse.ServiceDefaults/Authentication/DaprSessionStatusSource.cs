using System.Net;
using System.Net.Http.Json;
using AgentVerse.ServiceDefaults.Dapr;
using Microsoft.Extensions.Options;

namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>Asks the gateway, by Dapr service invocation, whether a session is revoked.</summary>
internal sealed class DaprSessionStatusSource(IHttpClientFactory http, IOptions<AgentVerseAuthOptions> options) : ISessionStatusSource
{
    public async Task<bool> IsRevokedAsync(string sessionId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        using var client = http.CreateClient(DaprInvocation.HttpClientName);
        using var response = await client.GetAsync(
            DaprInvocation.AppUri(settings.JwksAppId, $"{settings.SessionStatusPath.TrimEnd('/')}/{Uri.EscapeDataString(sessionId)}"), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return true;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"The session status of {settings.JwksAppId} answered {(int)response.StatusCode}.", null, response.StatusCode);
        }

        var status = await response.Content.ReadFromJsonAsync<SessionStatus>(cancellationToken);
        return status?.Revoked ?? true;
    }
}

/// <summary>What the gateway's session status endpoint answers.</summary>
/// <param name="SessionId">The session asked about.</param>
/// <param name="Revoked">True when revoked, expired or unknown.</param>
public sealed record SessionStatus(string SessionId, bool Revoked);

/// <summary>The <c>session.revoked</c> event's data.</summary>
/// <param name="SessionId">The revoked session.</param>
/// <param name="UserId">Its user.</param>
public sealed record SessionRevoked(string SessionId, string UserId);
