using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using AgentVerse.Gateway.Tokens;
using AgentVerse.ServiceDefaults.Authentication;
using AgentVerse.ServiceDefaults.Dapr;
using Dapr;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace AgentVerse.Gateway.Accounts;

/// <summary>Registration, login with lockout, refresh-token rotation with reuse detection, and logout.</summary>
public sealed class AccountService(
    AccountStore store,
    PasswordPolicy passwordPolicy,
    IPasswordHasher<User> hasher,
    TokenIssuer tokens,
    SessionRevoker revoker,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<AccountService> logger)
{
    // Verified against when the email is unknown, so that case costs the same PBKDF2 work as a wrong password.
    private static readonly Lazy<(User User, string Hash)> Dummy = new(() =>
    {
        var user = new User { Id = "", Email = "", Username = "", Role = AgentVerseRoles.Viewer, PasswordHash = "" };
        return (user, new PasswordHasher<User>().HashPassword(user, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));
    });

    public async Task<RegisterOutcome> RegisterAsync(RegisterRequest request, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email) || !IsEmail(request.Email))
        {
            errors["email"] = ["A valid email address is required."];
        }

        if (passwordPolicy.Check(request.Password) is { } passwordProblem)
        {
            errors["password"] = [passwordProblem];
        }

        if (request.Username is { Length: > 64 } || request.FirstName is { Length: > 100 } || request.LastName is { Length: > 100 })
        {
            errors["name"] = ["Username is limited to 64 characters, first and last names to 100."];
        }
        else if (!string.IsNullOrWhiteSpace(request.Username) && !StateKeys.IsStorable(request.Username.Trim()))
        {
            errors["username"] = ["A username has no '|' and no control characters."];
        }

        if (errors.Count > 0)
        {
            return new RegisterOutcome(null, errors, null);
        }

        var email = request.Email!.Trim();
        var normalized = AccountStore.NormalizeEmail(email);
        // Usernames are unique too (their own first-write key). Without one, the email's local part is used,
        // with a random suffix when another account already has it.
        var chosen = !string.IsNullOrWhiteSpace(request.Username);
        var username = chosen ? request.Username!.Trim() : email[..email.IndexOf('@', StringComparison.Ordinal)];
        for (var attempt = 0; attempt < 5; attempt++)
        {
            if (await ConflictAsync(normalized, username, cancellationToken) is { } taken)
            {
                if (chosen || taken == "email")
                {
                    return new RegisterOutcome(null, null, taken);
                }

                username = $"{email[..email.IndexOf('@', StringComparison.Ordinal)]}-{NewId()[..6].ToLowerInvariant()}";
                continue;
            }

            var (index, indexETag) = await store.GetUserIndexAsync(cancellationToken);
            var ids = index?.Ids ?? [];
            var now = time.GetUtcNow();
            var user = new User
            {
                Id = NewId(),
                Email = email,
                Username = username,
                FirstName = request.FirstName?.Trim(),
                LastName = request.LastName?.Trim(),
                // The first account administers the platform; the index ETag makes "first" race-free.
                Role = ids.Count == 0 ? AgentVerseRoles.Admin : AgentVerseRoles.User,
                PasswordHash = "",
                CreatedAt = now,
                UpdatedAt = now,
            };
            user = user with { PasswordHash = hasher.HashPassword(user, request.Password!) };

            try
            {
                await store.TransactAsync(
                [
                    // First-write with no ETag: fails if the email is already taken, so two registrations cannot both win.
                    StateOperations.Upsert(AccountStore.EmailKey(normalized), new EmailIndexEntry(user.Id), options: StateOperations.FirstWrite),
                    StateOperations.Upsert(AccountStore.UsernameKey(user.Username), new EmailIndexEntry(user.Id), options: StateOperations.FirstWrite),
                    StateOperations.Upsert(AccountStore.UserKey(user.Id), user),
                    StateOperations.Upsert(AccountStore.UsersIndexKey, new UserIndex([.. ids, user.Id]), indexETag, options: StateOperations.FirstWrite),
                ], cancellationToken);
                logger.LogInformation("Registered user {UserId} with role {Role}", user.Id, user.Role);
                return new RegisterOutcome(user, null, null);
            }
            catch (DaprException ex)
            {
                logger.LogDebug(ex, "Registration attempt {Attempt} lost a race", attempt);
            }
        }

        return await ConflictAsync(normalized, username, cancellationToken) is { } conflict
            ? new RegisterOutcome(null, null, conflict)
            : throw new InvalidOperationException("Registration failed after repeated concurrent updates of the user index.");
    }

    /// <summary>Which unique field is already taken ("email" or "username"), if any.</summary>
    private async Task<string?> ConflictAsync(string normalizedEmail, string username, CancellationToken cancellationToken)
    {
        if (await store.EmailExistsAsync(normalizedEmail, cancellationToken))
        {
            return "email";
        }

        return await store.UsernameExistsAsync(username, cancellationToken) ? "username" : null;
    }

    public async Task<LoginOutcome> LoginAsync(LoginRequest request, CancellationToken cancellationToken)
    {
        // No account can have an address that is not one (registration checks it), so it is looked up nowhere: an
        // unstorable key, over-long or holding the state store's separator, never reaches the store.
        if (string.IsNullOrWhiteSpace(request.Email) || !IsEmail(request.Email) || string.IsNullOrEmpty(request.Password))
        {
            return LoginOutcome.Invalid;
        }

        var settings = options.Value;
        var normalized = AccountStore.NormalizeEmail(request.Email);
        var now = time.GetUtcNow();
        var (failures, failuresETag) = await store.GetLoginFailuresAsync(normalized, cancellationToken);
        if (failures?.LockedUntil is { } lockedUntil && lockedUntil > now)
        {
            return LoginOutcome.Locked(lockedUntil - now);
        }

        var user = await store.FindByEmailAsync(normalized, cancellationToken);
        PasswordVerificationResult result;
        if (user is null)
        {
            // Same work as a wrong password, so timing does not tell whether the email has an account.
            _ = Verify(Dummy.Value.User, Dummy.Value.Hash, request.Password);
            result = PasswordVerificationResult.Failed;
        }
        else
        {
            result = Verify(user, user.PasswordHash, request.Password);
        }

        if (user is null || !user.IsActive || result == PasswordVerificationResult.Failed)
        {
            var locked = await RecordFailureAsync(normalized, failures, failuresETag, now, cancellationToken);
            return locked is { } lockFor ? LoginOutcome.Locked(lockFor) : LoginOutcome.Invalid;
        }

        if (failures is not null)
        {
            await store.DeleteLoginFailuresAsync(normalized, cancellationToken);
        }

        user = user with
        {
            LastLoginAt = now,
            // PasswordHasher says so when the stored hash uses older parameters (format version or iterations).
            PasswordHash = result == PasswordVerificationResult.SuccessRehashNeeded ? hasher.HashPassword(user, request.Password) : user.PasswordHash,
        };

        var rememberMe = request.RememberMe == true;
        var session = new Session
        {
            Id = NewId(),
            UserId = user.Id,
            CreatedAt = now,
            ExpiresAt = now.AddDays(rememberMe ? settings.RememberMeRefreshTokenDays : settings.RefreshTokenDays),
            RememberMe = rememberMe,
        };
        var refreshToken = NewRefreshToken();
        await store.TransactAsync(
        [
            StateOperations.Upsert(AccountStore.SessionKey(session.Id), session, metadata: AccountStore.Ttl(session.ExpiresAt - now)),
            StateOperations.Upsert(AccountStore.RefreshTokenKey(Hash(refreshToken)),
                new RefreshToken { SessionId = session.Id, UserId = user.Id, ExpiresAt = session.ExpiresAt },
                metadata: AccountStore.Ttl(session.ExpiresAt - now)),
            StateOperations.Upsert(AccountStore.UserKey(user.Id), user),
        ], cancellationToken);
        await store.AddUserSessionAsync(user.Id, session.Id, cancellationToken);

        var (token, expiresAt) = await tokens.IssueAccessTokenAsync(user, session.Id, cancellationToken);
        logger.LogInformation("User {UserId} logged in, session {SessionId}", user.Id, session.Id);
        return new LoginOutcome(new LoginResponse(token, refreshToken, ToLoginUser(user), expiresAt), null);
    }

    /// <summary>
    /// Exchanges a refresh token for a new pair. The old token is spent atomically with the new one's creation;
    /// a spent token presented again (or lost in a race) revokes the whole session, the token family.
    /// </summary>
    public async Task<LoginResponse?> RefreshAsync(string? refreshToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(refreshToken) || refreshToken.Length > 200)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var hash = Hash(refreshToken);
        var (stored, etag) = await store.GetRefreshTokenAsync(hash, cancellationToken);
        if (stored is null || stored.ExpiresAt <= now)
        {
            return null;
        }

        if (stored.SpentAt is not null)
        {
            logger.LogWarning("Refresh token reuse in session {SessionId} of user {UserId}: revoking the session", stored.SessionId, stored.UserId);
            await revoker.RevokeAsync(stored.SessionId, "refresh token reuse", cancellationToken);
            return null;
        }

        var (session, _) = await store.GetSessionAsync(stored.SessionId, cancellationToken);
        var user = await store.GetUserAsync(stored.UserId, cancellationToken);
        if (session is null || session.Revoked || session.ExpiresAt <= now || user is null || !user.IsActive)
        {
            return null;
        }

        var next = NewRefreshToken();
        try
        {
            await store.TransactAsync(
            [
                StateOperations.Upsert(AccountStore.RefreshTokenKey(hash), stored with { SpentAt = now }, etag,
                    AccountStore.Ttl(session.ExpiresAt - now), StateOperations.FirstWrite),
                StateOperations.Upsert(AccountStore.RefreshTokenKey(Hash(next)),
                    new RefreshToken { SessionId = session.Id, UserId = user.Id, ExpiresAt = session.ExpiresAt },
                    metadata: AccountStore.Ttl(session.ExpiresAt - now)),
            ], cancellationToken);
        }
        catch (DaprException)
        {
            // Someone spent this token between our read and write: the same reuse, seen concurrently.
            logger.LogWarning("Concurrent refresh token reuse in session {SessionId}: revoking the session", session.Id);
            await revoker.RevokeAsync(session.Id, "refresh token reuse", cancellationToken);
            return null;
        }

        var (token, expiresAt) = await tokens.IssueAccessTokenAsync(user, session.Id, cancellationToken);
        return new LoginResponse(token, next, ToLoginUser(user), expiresAt);
    }

    public static LoginUser ToLoginUser(User user) => new(user.Id, user.Email, user.Role, user.FirstName, user.LastName);

    /// <summary>Records a failed login; returns how long the email is now locked, when this failure locks it.</summary>
    private async Task<TimeSpan?> RecordFailureAsync(string normalized, LoginFailures? failures, string etag, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var window = TimeSpan.FromMinutes(settings.LockoutWindowMinutes);
        var lockFor = TimeSpan.FromMinutes(settings.LockoutMinutes);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var recent = (failures?.Failures ?? []).Where(f => now - f < window).Append(now).ToList();
            var locks = recent.Count >= settings.LockoutMaxFailures;
            var next = locks ? new LoginFailures([], now + lockFor) : new LoginFailures(recent, null);
            if (await store.TrySaveLoginFailuresAsync(normalized, next, etag, window + lockFor, cancellationToken))
            {
                if (locks)
                {
                    logger.LogWarning("Login for {Email} locked for {Minutes} minutes after {Failures} failures", normalized, settings.LockoutMinutes, recent.Count);
                }

                return locks ? lockFor : null;
            }

            (failures, etag) = await store.GetLoginFailuresAsync(normalized, cancellationToken);
        }

        return null;
    }

    private PasswordVerificationResult Verify(User user, string hash, string password)
    {
        try
        {
            return hasher.VerifyHashedPassword(user, hash, password);
        }
        catch (FormatException)
        {
            return PasswordVerificationResult.Failed;
        }
    }

    // Also a state key: no address with the store's separator or a control character is accepted (RFC 5322 allows '|').
    private static bool IsEmail(string value)
    {
        var trimmed = value.Trim();
        return value.Length <= 254 && StateKeys.IsStorable(trimmed) && MailAddress.TryCreate(trimmed, out var address)
            && address.Address == trimmed && trimmed.Contains('@', StringComparison.Ordinal);
    }

    private static string NewId() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16));

    private static string NewRefreshToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <param name="Conflict">The unique field already taken: <c>email</c> or <c>username</c>.</param>
public sealed record RegisterOutcome(User? User, Dictionary<string, string[]>? Errors, string? Conflict);

public sealed record LoginOutcome(LoginResponse? Response, TimeSpan? LockedFor)
{
    public static readonly LoginOutcome Invalid = new(null, null);

    public static LoginOutcome Locked(TimeSpan duration) => new(null, duration);
}
