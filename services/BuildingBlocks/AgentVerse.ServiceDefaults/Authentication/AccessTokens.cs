namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>What an AgentVerse access token is: the gateway issues them so and every service accepts only them.</summary>
public static class AccessTokens
{
    /// <summary>The only signing algorithm accepted.</summary>
    public const string Algorithm = Microsoft.IdentityModel.Tokens.SecurityAlgorithms.EcdsaSha256;

    /// <summary>The JWT header <c>typ</c> of an access token (RFC 9068).</summary>
    public const string TokenType = "at+jwt";
}
