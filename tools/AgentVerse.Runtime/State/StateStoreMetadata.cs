using System.Globalization;
using System.Text.RegularExpressions;
using AgentVerse.Runtime.Components;

namespace AgentVerse.Runtime.State;

/// <summary>Typed reads of state store component metadata; a bad value becomes a <see cref="ComponentLoadException"/> naming the field.</summary>
internal static partial class StateStoreMetadata
{
    public static string? GetString(this ComponentDefinition definition, params string[] names)
    {
        foreach (var name in names)
        {
            var value = definition.Get(name);
            if (!string.IsNullOrWhiteSpace(value)) return value.Trim();
        }
        return null;
    }

    /// <param name="alias">an older name components-contrib still accepts (e.g. <c>timeoutInSeconds</c>)</param>
    public static TimeSpan GetDuration(this ComponentDefinition definition, string field, TimeSpan defaultValue, string? alias = null)
    {
        var text = definition.Get(field);
        if (string.IsNullOrWhiteSpace(text) && alias is not null && !string.IsNullOrWhiteSpace(definition.Get(alias)))
        {
            field = alias;
            text = definition.Get(alias);
        }
        if (string.IsNullOrWhiteSpace(text)) return defaultValue;
        if (!GoDuration.TryParseMetadata(text, out var value))
            throw definition.Invalid(field, $"'{text}' is not a duration (use Go syntax such as 500ms, 20s, 1h30m, or a number of seconds)");
        return value;
    }

    public static bool GetBool(this ComponentDefinition definition, string field, bool defaultValue)
    {
        var text = definition.Get(field);
        if (string.IsNullOrWhiteSpace(text)) return defaultValue;
        // Dapr's utils.IsTruthy accepts these spellings; anything else is a typo worth reporting.
        return text.Trim().ToUpperInvariant() switch
        {
            "TRUE" or "1" or "Y" or "YES" or "ON" => true,
            "FALSE" or "0" or "N" or "NO" or "OFF" => false,
            _ => throw definition.Invalid(field, $"'{text}' is not a boolean (use true or false)"),
        };
    }

    public static int? GetPositiveInt(this ComponentDefinition definition, string field)
    {
        var text = definition.Get(field);
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value <= 0)
            throw definition.Invalid(field, $"'{text}' is not a positive integer");
        return value;
    }

    /// <summary>A table name (optionally <c>schema.table</c>) safe to splice into SQL, which cannot take it as a parameter.</summary>
    public static string GetIdentifier(this ComponentDefinition definition, string field, string defaultValue, bool allowSchema)
    {
        var text = definition.Get(field);
        if (string.IsNullOrWhiteSpace(text)) return defaultValue;
        text = text.Trim();
        var parts = text.Split('.');
        if (parts.Length > (allowSchema ? 2 : 1) || !parts.All(p => p.Length is > 0 and <= 63 && Identifier().IsMatch(p)))
        {
            throw definition.Invalid(field, $"'{text}' is not a valid table name (letters, digits and underscores" + (allowSchema ? ", optionally schema.table)" : ")"));
        }
        return text;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();
}
