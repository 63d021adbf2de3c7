namespace AgentVerse.ServiceDefaults.Authentication;

/// <summary>Claim types of an AgentVerse access token, as written in the JWT (no inbound claim mapping).</summary>
public static class AgentVerseClaims
{
    /// <summary>The user id.</summary>
    public const string Subject = "sub";

    /// <summary>The user's role: one of <see cref="AgentVerseRoles"/>.</summary>
    public const string Role = "role";

    /// <summary>The server-side session the token belongs to; revoking it revokes the token.</summary>
    public const string SessionId = "sid";

    /// <summary>The token's unique id.</summary>
    public const string TokenId = "jti";

    /// <summary>The user's email.</summary>
    public const string Email = "email";
}

/// <summary>The three roles of AgentVerse.</summary>
public static class AgentVerseRoles
{
    /// <summary>Manages users and everything else.</summary>
    public const string Admin = "admin";

    /// <summary>Creates and runs their own objects.</summary>
    public const string User = "user";

    /// <summary>Reads only: any non-safe HTTP method is refused.</summary>
    public const string Viewer = "viewer";

    /// <summary>All roles.</summary>
    public static readonly IReadOnlyList<string> All = [Admin, User, Viewer];
}

/// <summary>Authorization policy names; endpoint groups declare one with <c>RequireAuthorization(name)</c>.</summary>
public static class AgentVersePolicies
{
    /// <summary>Admins only.</summary>
    public const string Admin = "admin";

    /// <summary>Admins and users: anything that writes.</summary>
    public const string User = "user";

    /// <summary>Any role; viewers only with safe methods (GET, HEAD, OPTIONS). Also the fallback for protected paths.</summary>
    public const string Viewer = "viewer";

    /// <summary>Any authenticated caller and any method, viewers included (logout, token refresh, own profile).</summary>
    public const string Authenticated = "authenticated";
}
