using AgentVerse.Gateway.Tokens;
using AgentVerse.ServiceDefaults.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentVerse.Gateway.Apis;

/// <summary>
/// Open endpoints other services rely on: the JWKS (<c>/.well-known/jwks.json</c>, current and previous key) and
/// the session status (<c>/internal/sessions/{sid}</c>) that services consult, through Dapr, to learn revocations.
/// </summary>
public static class WellKnownApi
{
    public static IEndpointRouteBuilder MapWellKnownApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/.well-known/jwks.json", GetJwksAsync).AllowAnonymous().WithTags("Tokens");

        // Answers only revoked-or-not for a 128-bit random id, which is no use to someone without the token.
        app.MapGet("/internal/sessions/{sessionId}", GetSessionStatusAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    public static async Task<Ok<JsonWebKeySetResponse>> GetJwksAsync(SigningKeyStore keys, HttpContext context, CancellationToken cancellationToken)
    {
        var signing = await keys.GetAsync(cancellationToken);
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(new JsonWebKeySetResponse([.. signing.All.Select(k =>
            new JsonWebKeyResponse("EC", "P-256", k.X, k.Y, k.KeyId, "sig", AccessTokens.Algorithm))]));
    }

    public static async Task<Ok<SessionStatus>> GetSessionStatusAsync(string sessionId, ISessionStatusSource sessions, CancellationToken cancellationToken) =>
        TypedResults.Ok(new SessionStatus(sessionId, await sessions.IsRevokedAsync(sessionId, cancellationToken)));
}

public sealed record JsonWebKeySetResponse(IReadOnlyList<JsonWebKeyResponse> Keys);

public sealed record JsonWebKeyResponse(
    [property: System.Text.Json.Serialization.JsonPropertyName("kty")] string Kty,
    [property: System.Text.Json.Serialization.JsonPropertyName("crv")] string Crv,
    [property: System.Text.Json.Serialization.JsonPropertyName("x")] string X,
    [property: System.Text.Json.Serialization.JsonPropertyName("y")] string Y,
    [property: System.Text.Json.Serialization.JsonPropertyName("kid")] string Kid,
    [property: System.Text.Json.Serialization.JsonPropertyName("use")] string Use,
    [property: System.Text.Json.Serialization.JsonPropertyName("alg")] string Alg);
