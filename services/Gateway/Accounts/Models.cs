namespace AgentVerse.Gateway.Accounts;

/// <summary>A user as stored under <c>user:{id}</c>. The password hash never leaves the gateway.</summary>
public sealed record User
{
    public required string Id { get; init; }
    public required string Email { get; init; }
    public required string Username { get; init; }
    public string? FirstName { get; init; }
    public string? LastName { get; init; }
    public required string Role { get; init; }
    public bool IsActive { get; init; } = true;
    public required string PasswordHash { get; init; }
    public DateTimeOffset? LastLoginAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>A user as the API shows it.</summary>
public sealed record UserResponse(
    string Id, string Email, string Username, string? FirstName, string? LastName, string Role, bool IsActive,
    DateTimeOffset? LastLoginAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static UserResponse From(User user) => new(
        user.Id, user.Email, user.Username, user.FirstName, user.LastName, user.Role, user.IsActive, user.LastLoginAt, user.CreatedAt, user.UpdatedAt);
}

/// <summary>
/// A login: one refresh token family. Every access and refresh token of the family carries its id (<c>sid</c>);
/// revoking it ends them all. Stored under <c>session:{id}</c>, with a TTL of its lifetime.
/// </summary>
public sealed record Session
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public bool RememberMe { get; init; }
    public bool Revoked { get; init; }
    public DateTimeOffset? RevokedAt { get; init; }
    public string? RevokedReason { get; init; }
}

/// <summary>A refresh token, stored under <c>refresh-token:{sha256}</c>; the token itself is never stored.</summary>
public sealed record RefreshToken
{
    public required string SessionId { get; init; }
    public required string UserId { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }

    /// <summary>Set when the token was exchanged; presenting it again is reuse and revokes the session.</summary>
    public DateTimeOffset? SpentAt { get; init; }
}

/// <summary>Points an email (normalized) at its user: <c>user-email:{email}</c>, written first-write-wins.</summary>
public sealed record EmailIndexEntry(string UserId);

/// <summary>The ids of all users in creation order (<c>users-index</c>), for the admin listing without a scan.</summary>
public sealed record UserIndex(IReadOnlyList<string> Ids);

/// <summary>A user's session ids (<c>user-sessions:{userId}</c>), to revoke them all on deactivation.</summary>
public sealed record UserSessions(IReadOnlyList<string> Ids);

/// <summary>Recent failed logins for one email (<c>login-failures:{email}</c>).</summary>
public sealed record LoginFailures(IReadOnlyList<DateTimeOffset> Failures, DateTimeOffset? LockedUntil);

// ----------------------------------------------------------------- requests and responses (seed 003 §2.1)

public sealed record RegisterRequest(string? Email, string? Username, string? Password, string? FirstName, string? LastName);

public sealed record LoginRequest(string? Email, string? Password, bool? RememberMe);

public sealed record LoginUser(string Id, string Email, string Role, string? FirstName, string? LastName);

public sealed record LoginResponse(string Token, string RefreshToken, LoginUser User, DateTimeOffset ExpiresAt);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record LogoutResponse(bool Success, string Message);

public sealed record UpdateUserRequest(string? Role, bool? IsActive);

public sealed record UserPage(IReadOnlyList<UserResponse> Items, int Page, int PageSize, int Total);
