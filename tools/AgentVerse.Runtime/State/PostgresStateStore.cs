using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentVerse.Runtime.Components;
using Npgsql;
using NpgsqlTypes;

namespace AgentVerse.Runtime.State;

/// <summary>
/// <c>state.postgresql</c>, versions v1 and v2, with components-contrib's tables so a database is
/// interchangeable with daprd's:
/// v1 keeps values as <c>jsonb</c> (non-JSON bytes as a base64 string with <c>isbinary</c>) and uses the row's
/// <c>xmin</c> as ETag; v2 keeps exact bytes in <c>bytea</c> with a <c>uuid</c> ETag.
/// Optimistic concurrency relies on PostgreSQL re-checking the <c>WHERE</c> of a blocked UPDATE against the
/// newest row version (READ COMMITTED), so concurrent writers with one ETag cannot both succeed.
/// </summary>
public sealed class PostgresStateStore : IStateStore
{
    private readonly PostgresOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly Sql _sql;
    private NpgsqlDataSource? _dataSource;
    private ITimer? _cleanupTimer;
    private int _cleanupRunning;
    private bool _disposed;

    private PostgresStateStore(PostgresOptions options, TimeProvider timeProvider)
    {
        _options = options;
        _timeProvider = timeProvider;
        _sql = new Sql(options.StateTable, options.MetadataTable, options.IsV2);
    }

    public StateStoreFeatures Features => StateStoreFeatures.ETag | StateStoreFeatures.Transactional | StateStoreFeatures.Ttl;

    /// <summary>Validates the component's metadata (throwing <see cref="ComponentLoadException"/> naming the field) and creates the store.</summary>
    public static IStateStore Create(ComponentDefinition definition, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new PostgresStateStore(PostgresOptions.From(definition), timeProvider);
    }

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_dataSource is not null) return;
        var dataSource = NpgsqlDataSource.Create(_options.ConnectionString);
        try
        {
            await MigrateAsync(dataSource, cancellationToken);
        }
        catch
        {
            await dataSource.DisposeAsync();
            throw;
        }
        _dataSource = dataSource;

        if (_options.CleanupInterval > TimeSpan.Zero)
        {
            _cleanupTimer = _timeProvider.CreateTimer(_ => _ = CleanupExpiredAsync(), null, _options.CleanupInterval, _options.CleanupInterval);
        }
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = DataSource.CreateCommand(_sql.Get);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = key });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = Now() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;

        byte[] value;
        string etag;
        DateTimeOffset? expires;
        if (_options.IsV2)
        {
            value = reader.GetFieldValue<byte[]>(0);
            etag = reader.GetGuid(1).ToString();
            expires = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2);
        }
        else
        {
            var json = reader.GetString(0);
            value = reader.GetBoolean(1) ? DecodeBinary(json) : Encoding.UTF8.GetBytes(json);
            etag = reader.GetString(2);
            expires = reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3);
        }
        return new StateEntry(value, etag, expires);
    }

    public async Task SetAsync(StateSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await SetAsync(connection, null, request, cancellationToken);
    }

    public async Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await DeleteAsync(connection, null, request, cancellationToken);
    }

    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        await using var connection = await DataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var operation in operations)
        {
            switch (operation)
            {
                case UpsertOperation upsert: await SetAsync(connection, transaction, upsert.Request, cancellationToken); break;
                case DeleteOperation delete: await DeleteAsync(connection, transaction, delete.Request, cancellationToken); break;
                default: throw new NotSupportedException($"unsupported state operation {operation.GetType().Name}");
            }
        }
        // Leaving without commit (an exception above) rolls back on dispose.
        await transaction.CommitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        if (_cleanupTimer is not null) await _cleanupTimer.DisposeAsync();
        if (_dataSource is not null) await _dataSource.DisposeAsync();
        _dataSource = null;
    }

    private NpgsqlDataSource DataSource
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _dataSource ?? throw new InvalidOperationException("the PostgreSQL state store is not initialised (call InitAsync)");
        }
    }

    private DateTimeOffset Now() => _timeProvider.GetUtcNow().ToUniversalTime();

    private async Task SetAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, StateSetRequest request, CancellationToken cancellationToken)
    {
        var etag = ParseETag(request.Key, request.ETag);
        var now = Now();
        // A TTL of zero or less means no expiry, as components-contrib treats ttlInSeconds <= 0.
        object expiration = request.Ttl is { } ttl && ttl > TimeSpan.Zero ? now + ttl : DBNull.Value;

        var sql = etag is not null ? _sql.UpdateWithETag : request.FirstWrite ? _sql.InsertIfAbsent : _sql.Upsert;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = request.Key });
        if (_options.IsV2)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = request.Value.ToArray() });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = Guid.NewGuid() });
        }
        else
        {
            var (json, isBinary) = EncodeV1(request.Value.Span);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = json });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Boolean, Value = isBinary });
        }
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = expiration });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = now });
        if (etag is not null) command.Parameters.Add(etag);

        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1) throw new ETagMismatchException(request.Key);
    }

    private async Task DeleteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, StateDeleteRequest request, CancellationToken cancellationToken)
    {
        var etag = ParseETag(request.Key, request.ETag);
        await using var command = new NpgsqlCommand(etag is null ? _sql.Delete : _sql.DeleteWithETag, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = request.Key });
        if (etag is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = Now() });
            command.Parameters.Add(etag);
        }

        var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
        if (etag is not null && deleted != 1) throw new ETagMismatchException(request.Key);
    }

    /// <summary>The ETag as a typed parameter, or null when none was given.</summary>
    /// <exception cref="InvalidETagException">not an xmin (v1) / uuid (v2)</exception>
    private NpgsqlParameter? ParseETag(string key, string? etag)
    {
        if (string.IsNullOrEmpty(etag)) return null;
        if (_options.IsV2)
        {
            return Guid.TryParse(etag, out var uuid)
                ? new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = uuid }
                : throw new InvalidETagException(key);
        }
        return uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
            ? new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Xid, Value = xid }
            : throw new InvalidETagException(key);
    }

    /// <summary>v1 stores JSON as jsonb (so daprd's Query API can read it); anything else as a base64 JSON string.</summary>
    private static (string Json, bool IsBinary) EncodeV1(ReadOnlySpan<byte> value)
    {
        if (IsJsonbCompatible(value)) return (Encoding.UTF8.GetString(value), false);
        // Base64 needs no JSON escaping.
        return ("\"" + Convert.ToBase64String(value) + "\"", true);
    }

    private static bool IsJsonbCompatible(ReadOnlySpan<byte> value)
    {
        // jsonb rejects the NUL character even when escaped.
        if (value.IsEmpty || value.IndexOf("\\u0000"u8) >= 0) return false;
        var reader = new Utf8JsonReader(value);
        try
        {
            while (reader.Read())
            {
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] DecodeBinary(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json));
        reader.Read();
        return Convert.FromBase64String(reader.GetString() ?? "");
    }

    private async Task MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Serialise sidecars migrating the same database at once (CREATE TABLE IF NOT EXISTS races otherwise).
        await ExecuteAsync("SELECT pg_advisory_xact_lock(7165373720331485762)");
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {_options.MetadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)");

        // Every migration is idempotent (IF NOT EXISTS), so all of them run each time: components-contrib skips by the
        // level recorded under one key, which leaves a second v1 table in the same database uncreated.
        foreach (var migration in _sql.Migrations) await ExecuteAsync(migration);

        // Keep components-contrib's bookkeeping (number of migrations applied) so daprd accepts the database.
        var migrationKey = _options.IsV2 ? "migrations-state-v2-" + _sql.StatePrefix : "migrations";
        await using (var write = new NpgsqlCommand(
            $"INSERT INTO {_options.MetadataTable} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", connection, transaction))
        {
            write.Parameters.Add(new NpgsqlParameter { Value = migrationKey });
            write.Parameters.Add(new NpgsqlParameter { Value = _sql.Migrations.Count.ToString(CultureInfo.InvariantCulture) });
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);

        async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Deletes expired rows, at most once per interval across all sidecars sharing the database.</summary>
    internal async Task CleanupExpiredAsync()
    {
        if (Interlocked.Exchange(ref _cleanupRunning, 1) != 0) return;
        try
        {
            if (_dataSource is not { } dataSource) return;
            var now = Now();
            await using var connection = await dataSource.OpenConnectionAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var claim = new NpgsqlCommand(_sql.ClaimCleanup, connection, transaction))
            {
                claim.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = _sql.CleanupKey });
                claim.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = now.ToString("O", CultureInfo.InvariantCulture) });
                claim.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = now });
                // A little under the interval, so timer jitter does not skip every other run.
                claim.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bigint, Value = (long)(_options.CleanupInterval.TotalMilliseconds * 0.95) });
                if (await claim.ExecuteNonQueryAsync() == 0) return;
            }
            await using (var delete = new NpgsqlCommand(_sql.DeleteExpired, connection, transaction))
            {
                delete.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = now });
                await delete.ExecuteNonQueryAsync();
            }
            await transaction.CommitAsync();
        }
        catch (NpgsqlException)
        {
            // Best effort: expired rows are invisible to reads anyway; the next tick retries.
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            Interlocked.Exchange(ref _cleanupRunning, 0);
        }
    }

    /// <summary>
    /// The statements of one table layout. Parameters: $1 key, $2 value, $3 isbinary (v1) / new etag (v2),
    /// $4 expiration, $5 now, $6 expected etag; deletes: $1 key, $2 now, $3 etag.
    /// </summary>
    private sealed class Sql
    {
        public Sql(string table, string metadataTable, bool v2)
        {
            var (expires, updated) = v2 ? ("expires_at", "updated_at") : ("expiredate", "updatedate");
            var (etag, third) = v2 ? ("etag", "etag") : ("xmin", "isbinary");
            var live = $"({expires} IS NULL OR {expires} > $5)";

            StatePrefix = v2 ? table[..^"state".Length] : "";
            Get = v2
                ? $"SELECT value, etag, expires_at FROM {table} WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)"
                : $"SELECT value::text, isbinary, xmin::text, expiredate FROM {table} WHERE key = $1 AND (expiredate IS NULL OR expiredate > $2)";
            Upsert = $"""
                INSERT INTO {table} AS t (key, value, {third}, {expires}) VALUES ($1, $2, $3, $4)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, {third} = excluded.{third}, {updated} = $5, {expires} = excluded.{expires}
                """;
            // An expired row that cleanup has not removed yet counts as absent.
            InsertIfAbsent = Upsert + $" WHERE t.{expires} IS NOT NULL AND t.{expires} <= $5";
            UpdateWithETag = $"UPDATE {table} SET value = $2, {third} = $3, {updated} = $5, {expires} = $4 WHERE key = $1 AND {etag} = $6 AND {live}";
            Delete = $"DELETE FROM {table} WHERE key = $1";
            DeleteWithETag = $"DELETE FROM {table} WHERE key = $1 AND {etag} = $3 AND ({expires} IS NULL OR {expires} > $2)";
            DeleteExpired = $"DELETE FROM {table} WHERE {expires} IS NOT NULL AND {expires} <= $1";
            CleanupKey = (v2 ? "last-cleanup-state-v2-" : "last-cleanup-") + table;
            ClaimCleanup = $"""
                INSERT INTO {metadataTable} AS m (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                WHERE (EXTRACT('epoch' FROM $3 - m.value::timestamp with time zone) * 1000)::bigint > $4
                """;
            Migrations = v2
                ?
                [
                    $"""
                    CREATE TABLE IF NOT EXISTS {table} (
                      key text NOT NULL PRIMARY KEY,
                      value bytea NOT NULL,
                      etag uuid NOT NULL DEFAULT gen_random_uuid(),
                      created_at timestamp with time zone NOT NULL DEFAULT now(),
                      updated_at timestamp with time zone,
                      expires_at timestamp with time zone
                    );
                    CREATE INDEX IF NOT EXISTS {IndexName(table, "expires_at")} ON {table} (expires_at);
                    """,
                ]
                :
                [
                    $"""
                    CREATE TABLE IF NOT EXISTS {table} (
                      key text NOT NULL PRIMARY KEY,
                      value jsonb NOT NULL,
                      isbinary boolean NOT NULL,
                      insertdate timestamp with time zone NOT NULL DEFAULT now(),
                      updatedate timestamp with time zone NULL
                    )
                    """,
                    $"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS expiredate timestamp with time zone",
                ];
        }

        public string StatePrefix { get; }
        public string Get { get; }
        public string Upsert { get; }
        public string InsertIfAbsent { get; }
        public string UpdateWithETag { get; }
        public string Delete { get; }
        public string DeleteWithETag { get; }
        public string DeleteExpired { get; }
        public string CleanupKey { get; }
        public string ClaimCleanup { get; }
        public IReadOnlyList<string> Migrations { get; }

        private static string IndexName(string table, string column) => $"{table[(table.LastIndexOf('.') + 1)..]}_{column}_idx";
    }
}
