using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Accounts;

/// <summary>Refuses short passwords and ones from a small list of the most common (NIST SP 800-63B §5.1.1.2).</summary>
public sealed class PasswordPolicy(IOptions<GatewayOptions> options)
{
    private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
    {
        "123456789012", "1234567890123", "12345678901234", "123456123456", "111111111111", "000000000000",
        "password1234", "password12345", "password123!", "passwordpassword", "qwertyuiop12", "qwertyuiopasdf",
        "qwerty123456", "iloveyou1234", "letmein12345", "welcome12345", "welcome123!!", "administrator",
        "administrator1", "changeme1234", "abc123456789", "abcdefghijkl", "1q2w3e4r5t6y", "1qaz2wsx3edc",
        "zaq12wsxcde3", "football1234", "baseball1234", "superman1234", "trustno1trustno1", "monkey123456",
        "dragon123456", "sunshine1234", "princess1234", "starwars1234", "whatever1234", "p@ssw0rd1234",
        "passw0rd1234", "correcthorsebatterystaple", "aaaaaaaaaaaa", "asdfghjkl123", "asdfasdfasdf",
        "agentverse123", "agentverse1234", "secretsecret", "masterpassword",
    };

    /// <summary>The reason the password is refused, or null when it is acceptable.</summary>
    public string? Check(string? password)
    {
        var minimum = options.Value.MinPasswordLength;
        if (string.IsNullOrEmpty(password) || password.Length < minimum)
        {
            return $"The password must have at least {minimum} characters.";
        }

        if (password.Length > 256)
        {
            return "The password must have at most 256 characters.";
        }

        if (Common.Contains(password) || password.Distinct().Count() <= 2)
        {
            return "The password is too common; choose another.";
        }

        return null;
    }
}
