using AgentVerse.Runtime.Components;
using Microsoft.Data.Sqlite;

namespace AgentVerse.Runtime.State;

/// <summary>The validated metadata of a <c>state.sqlite</c> component.</summary>
internal sealed record SqliteOptions(
    string ConnectionString,
    bool IsMemory,
    string? DirectoryToCreate,
    TimeSpan Timeout,
    TimeSpan BusyTimeout,
    bool DisableWal,
    string TableName,
    string MetadataTableName,
    TimeSpan CleanupInterval)
{
    public static SqliteOptions From(ComponentDefinition definition)
    {
        var raw = definition.GetString("connectionString", "url")
            ?? throw definition.Invalid("connectionString", "missing: set it to a database file path (e.g. data.db), a file: URI, or :memory:");

        var timeout = definition.GetDuration("timeout", TimeSpan.FromSeconds(20), "timeoutInSeconds");
        if (timeout <= TimeSpan.Zero) throw definition.Invalid("timeout", "must be greater than zero");
        var busyTimeout = definition.GetDuration("busyTimeout", TimeSpan.FromSeconds(2));
        if (busyTimeout < TimeSpan.Zero) throw definition.Invalid("busyTimeout", "must not be negative");

        var table = definition.GetIdentifier("tableName", "state", allowSchema: false);
        var metadataTable = definition.GetIdentifier("metadataTableName", "metadata", allowSchema: false);
        if (string.Equals(table, metadataTable, StringComparison.OrdinalIgnoreCase))
            throw definition.Invalid("metadataTableName", $"must differ from tableName '{table}'");

        var (dataSource, isMemory, directory) = ParseDataSource(definition, raw);
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = dataSource,
            // The store keeps its own connections open for its lifetime; a process-wide pool would only hold the file open after dispose.
            Pooling = false,
            DefaultTimeout = (int)Math.Ceiling(timeout.TotalSeconds),
        };

        return new SqliteOptions(
            builder.ToString(),
            isMemory,
            directory,
            timeout,
            busyTimeout,
            definition.GetBool("disableWAL", false),
            table,
            metadataTable,
            // 0 or negative disables the periodic sweep; reads ignore expired rows either way.
            definition.GetDuration("cleanupInterval", TimeSpan.Zero, "cleanupIntervalInSeconds"));
    }

    /// <summary>
    /// daprd takes a plain path, <c>:memory:</c> or a <c>file:</c> URI (whose go-sqlite3 style options such as
    /// <c>_pragma</c> SQLite itself ignores). Microsoft.Data.Sqlite opens URI file names natively.
    /// </summary>
    private static (string DataSource, bool IsMemory, string? Directory) ParseDataSource(ComponentDefinition definition, string raw)
    {
        if (raw == ":memory:") return (raw, true, null);

        if (raw.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            var query = raw.IndexOf('?', StringComparison.Ordinal);
            var path = Uri.UnescapeDataString(query < 0 ? raw[5..] : raw[5..query]);
            var options = query < 0 ? "" : raw[(query + 1)..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                // file://host/path: SQLite accepts only an empty host or localhost.
                var slash = path.IndexOf('/', 2);
                var host = slash < 0 ? path[2..] : path[2..slash];
                if (host.Length > 0 && !host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                    throw definition.Invalid("connectionString", $"file URI host '{host}' is not supported (use file:///absolute/path or file:relative/path)");
                path = slash < 0 ? "" : path[slash..];
            }

            var isMemory = path is ":memory:" or ""
                || options.Split('&').Any(o => o.Equals("mode=memory", StringComparison.OrdinalIgnoreCase));
            if (isMemory) return (raw, true, null);
            return (raw, false, Path.GetDirectoryName(Path.GetFullPath(path)));
        }

        if (raw.Contains('=', StringComparison.Ordinal) && raw.Contains("data source", StringComparison.OrdinalIgnoreCase))
        {
            // An ADO.NET style connection string, for convenience.
            try
            {
                var builder = new SqliteConnectionStringBuilder(raw);
                var isMemory = builder.Mode == SqliteOpenMode.Memory || builder.DataSource is ":memory:" or "";
                return (builder.DataSource, isMemory, isMemory ? null : Path.GetDirectoryName(Path.GetFullPath(builder.DataSource)));
            }
            catch (ArgumentException ex)
            {
                throw definition.Invalid("connectionString", ex.Message);
            }
        }

        try
        {
            return (raw, false, Path.GetDirectoryName(Path.GetFullPath(raw)));
        }
        catch (ArgumentException ex)
        {
            throw definition.Invalid("connectionString", $"'{raw}' is not a valid file path: {ex.Message}");
        }
    }
}
