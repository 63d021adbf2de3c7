using System.Security.Claims;
using AgentVerse.ServiceDefaults.Authentication;

namespace AgentVerse.Tools.Apis;

internal static class CallerExtensions
{
    /// <summary>The authenticated caller's user id (the token's subject) and whether they are an admin.</summary>
    public static (string UserId, bool IsAdmin) Caller(this ClaimsPrincipal user) =>
        (user.FindFirstValue(AgentVerseClaims.Subject) ?? throw new InvalidOperationException("An authenticated caller has a subject."),
         user.IsInRole(AgentVerseRoles.Admin));
}
