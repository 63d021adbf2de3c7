using System.Globalization;
using System.Text;
using AgentVerse.Runtime.Components;
using Npgsql;

namespace AgentVerse.Runtime.State;

/// <summary>The validated metadata of a <c>state.postgresql</c> component (v1 or v2).</summary>
internal sealed record PostgresOptions(
    string ConnectionString,
    bool IsV2,
    TimeSpan Timeout,
    string StateTable,
    string MetadataTable,
    TimeSpan CleanupInterval)
{
    public static PostgresOptions From(ComponentDefinition definition)
    {
        var isV2 = definition.Version.Trim().ToUpperInvariant() switch
        {
            "" or "V1" => false,
            "V2" => true,
            _ => throw definition.Invalid("version", $"'{definition.Version}' is not a state.postgresql version (use v1 or v2)"),
        };

        var timeout = definition.GetDuration("timeout", TimeSpan.FromSeconds(20), "timeoutInSeconds");
        if (timeout <= TimeSpan.Zero) throw definition.Invalid("timeout", "must be greater than zero");

        string stateTable;
        if (isV2)
        {
            // v2 names its table <tablePrefix>state; the prefix may carry a schema ("myschema.app1_").
            var prefix = definition.Get("tablePrefix")?.Trim() ?? "";
            stateTable = ValidatePrefixedTable(definition, "tablePrefix", prefix + "state");
        }
        else
        {
            stateTable = definition.GetIdentifier("tableName", "state", allowSchema: true);
        }
        var metadataTable = definition.GetIdentifier("metadataTableName", "dapr_metadata", allowSchema: true);
        if (string.Equals(stateTable, metadataTable, StringComparison.OrdinalIgnoreCase))
            throw definition.Invalid("metadataTableName", $"must differ from the state table '{stateTable}'");

        var builder = BuildConnection(definition, out var connectTimeoutGiven);
        var seconds = (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.TotalSeconds));
        builder.CommandTimeout = seconds;
        // Connecting is bounded by the operation timeout too (daprd connects under it), and by connect_timeout when given.
        builder.Timeout = Math.Min(Math.Min(seconds, 1024), connectTimeoutGiven ? builder.Timeout : int.MaxValue);
        // Npgsql prepares the hot statements transparently once they repeat.
        builder.MaxAutoPrepare = Math.Max(builder.MaxAutoPrepare, 16);
        if (definition.GetPositiveInt("maxConns") is { } maxConns)
        {
            builder.MaxPoolSize = maxConns;
            builder.MinPoolSize = Math.Min(builder.MinPoolSize, maxConns);
        }
        var idle = definition.GetDuration("connectionMaxIdleTime", TimeSpan.Zero);
        if (idle > TimeSpan.Zero) builder.ConnectionIdleLifetime = (int)Math.Max(1, idle.TotalSeconds);

        return new PostgresOptions(
            builder.ConnectionString,
            isV2,
            timeout,
            stateTable,
            metadataTable,
            // 0 or negative disables the periodic sweep; reads ignore expired rows either way.
            definition.GetDuration("cleanupInterval", TimeSpan.FromHours(1), "cleanupIntervalInSeconds"));
    }

    private static string ValidatePrefixedTable(ComponentDefinition definition, string field, string tableName)
    {
        // Reuse the identifier rules on the full table name, reporting the prefix field.
        var probe = definition with { Metadata = new Dictionary<string, string> { [field] = tableName } };
        try
        {
            return probe.GetIdentifier(field, tableName, allowSchema: true);
        }
        catch (ComponentLoadException)
        {
            throw definition.Invalid(field, $"'{tableName[..^"state".Length]}' gives the table name '{tableName}', which is not valid (letters, digits and underscores, optionally schema.prefix)");
        }
    }

    /// <summary>
    /// daprd (pgx) takes a libpq keyword/value string (<c>host=h user=u password=p port=5432 database=d</c>) or a
    /// <c>postgres://</c> URL; Npgsql wants its own keywords, so both are translated. A semicolon-separated Npgsql
    /// string is accepted as is. Without <c>connectionString</c>, the separate host/port/... fields are used.
    /// </summary>
    private static NpgsqlConnectionStringBuilder BuildConnection(ComponentDefinition definition, out bool connectTimeoutGiven)
    {
        var raw = definition.GetString("connectionString");
        var builder = new NpgsqlConnectionStringBuilder();
        try
        {
            if (raw is null)
            {
                var host = definition.GetString("host", "hostaddr")
                    ?? throw definition.Invalid("connectionString", "missing: set connectionString (e.g. \"host=localhost user=postgres password=example port=5432 database=dapr\") or the host/port/database/user/password fields");
                Apply(definition, builder, "host", host);
                foreach (var (field, keyword) in new[] { ("port", "port"), ("database", "dbname"), ("user", "user"), ("password", "password"), ("sslRootCert", "sslrootcert") })
                {
                    if (definition.GetString(field) is { } value) Apply(definition, builder, keyword, value);
                }
            }
            else if (raw.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            {
                ApplyUrl(definition, builder, raw);
            }
            else if (raw.Contains(';', StringComparison.Ordinal))
            {
                builder.ConnectionString = raw;
            }
            else
            {
                foreach (var (keyword, value) in ParseKeywordValues(definition, raw)) Apply(definition, builder, keyword, value);
            }
        }
        catch (ArgumentException ex)
        {
            throw definition.Invalid("connectionString", ex.Message);
        }
        catch (FormatException ex)
        {
            throw definition.Invalid("connectionString", ex.Message);
        }

        if (string.IsNullOrEmpty(builder.Host)) throw definition.Invalid("connectionString", "no host given");
        connectTimeoutGiven = raw is not null && (raw.Contains("connect_timeout", StringComparison.OrdinalIgnoreCase) || raw.Contains("timeout=", StringComparison.OrdinalIgnoreCase));
        return builder;
    }

    private static void ApplyUrl(ComponentDefinition definition, NpgsqlConnectionStringBuilder builder, string raw)
    {
        if (!Uri.TryCreate(raw, UriKind.Absolute, out var uri))
            throw definition.Invalid("connectionString", "is not a valid postgres:// URL");
        if (uri.Host.Length > 0) Apply(definition, builder, "host", uri.Host.Trim('[', ']'));
        if (!uri.IsDefaultPort && uri.Port > 0) Apply(definition, builder, "port", uri.Port.ToString(CultureInfo.InvariantCulture));
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            Apply(definition, builder, "user", Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]));
            if (colon >= 0) Apply(definition, builder, "password", Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
        }
        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0) Apply(definition, builder, "dbname", database);
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            Apply(definition, builder, key, Uri.UnescapeDataString(eq < 0 ? "" : pair[(eq + 1)..]));
        }
    }

    /// <summary>libpq's <c>key=value key='quoted \' value'</c> syntax.</summary>
    private static IEnumerable<(string Keyword, string Value)> ParseKeywordValues(ComponentDefinition definition, string raw)
    {
        var i = 0;
        while (true)
        {
            while (i < raw.Length && char.IsWhiteSpace(raw[i])) i++;
            if (i >= raw.Length) yield break;
            var keyStart = i;
            while (i < raw.Length && raw[i] != '=' && !char.IsWhiteSpace(raw[i])) i++;
            var key = raw[keyStart..i];
            while (i < raw.Length && char.IsWhiteSpace(raw[i])) i++;
            if (i >= raw.Length || raw[i] != '=')
                throw definition.Invalid("connectionString", $"expected key=value pairs but found '{key}' without '='");
            i++;
            while (i < raw.Length && char.IsWhiteSpace(raw[i])) i++;

            var value = new StringBuilder();
            if (i < raw.Length && raw[i] == '\'')
            {
                i++;
                while (true)
                {
                    if (i >= raw.Length) throw definition.Invalid("connectionString", $"unterminated quoted value for '{key}'");
                    if (raw[i] == '\\' && i + 1 < raw.Length) { value.Append(raw[i + 1]); i += 2; continue; }
                    if (raw[i] == '\'') { i++; break; }
                    value.Append(raw[i++]);
                }
            }
            else
            {
                while (i < raw.Length && !char.IsWhiteSpace(raw[i]))
                {
                    if (raw[i] == '\\' && i + 1 < raw.Length) { value.Append(raw[i + 1]); i += 2; continue; }
                    value.Append(raw[i++]);
                }
            }
            yield return (key, value.ToString());
        }
    }

    private static void Apply(ComponentDefinition definition, NpgsqlConnectionStringBuilder builder, string keyword, string value)
    {
        switch (keyword.ToLowerInvariant())
        {
            case "host":
            case "hostaddr":
                builder.Host = value;
                break;
            case "port":
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is <= 0 or > 65535)
                    throw definition.Invalid("port", $"'{value}' is not a TCP port");
                builder.Port = port;
                break;
            case "dbname":
            case "database":
                builder.Database = value;
                break;
            case "user":
            case "username":
                builder.Username = value;
                break;
            case "password":
                builder.Password = value;
                break;
            case "sslmode":
                builder.SslMode = value.ToLowerInvariant() switch
                {
                    "disable" => SslMode.Disable,
                    "allow" => SslMode.Allow,
                    "prefer" => SslMode.Prefer,
                    "require" => SslMode.Require,
                    "verify-ca" => SslMode.VerifyCA,
                    "verify-full" => SslMode.VerifyFull,
                    _ => throw definition.Invalid("connectionString", $"sslmode '{value}' is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                };
                break;
            case "sslrootcert":
                builder.RootCertificate = value;
                break;
            case "sslcert":
                builder.SslCertificate = value;
                break;
            case "sslkey":
                builder.SslKey = value;
                break;
            case "connect_timeout":
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var connectTimeout)) builder.Timeout = connectTimeout;
                break;
            case "application_name":
                builder.ApplicationName = value;
                break;
            case "search_path":
                builder.SearchPath = value;
                break;
            case "pool_max_conns":
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var max) && max > 0) builder.MaxPoolSize = max;
                break;
            case "pool_min_conns":
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var min)) builder.MinPoolSize = min;
                break;
            case "pool_max_conn_lifetime":
            case "pool_max_conn_idle_time":
            case "pool_health_check_period":
            case "target_session_attrs":
            case "default_query_exec_mode":
            case "statement_cache_capacity":
            case "description_cache_capacity":
                // pgx client-side tuning without an Npgsql equivalent that matters here.
                break;
            default:
                // pgx sends unknown keywords to the server as run-time parameters; so do we.
                builder.Options = (builder.Options is { Length: > 0 } o ? o + " " : "") + $"-c {keyword}={value.Replace(" ", "\\ ", StringComparison.Ordinal)}";
                break;
        }
    }
}
