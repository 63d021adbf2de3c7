using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using AgentVerse.Runtime.Components;
using Microsoft.Data.Sqlite;

namespace AgentVerse.Runtime.State;

/// <summary>
/// <c>state.sqlite</c>, with components-contrib's table layout (<c>key, value, is_binary, etag,
/// expiration_time, update_time</c>) and UUID ETags, so a database file is interchangeable with daprd's.
/// All writes go through one connection guarded by a semaphore, so concurrent callers never see
/// SQLITE_BUSY from each other; reads use a small pool of their own connections (WAL lets them run
/// alongside the writer).
/// </summary>
public sealed class SqliteStateStore : IStateStore
{
    private const int MaxIdleReaders = 8;

    // components-contrib writes timestamps as SQLite's CURRENT_TIMESTAMP text ('YYYY-MM-DD HH:MM:SS', UTC);
    // the same shape with milliseconds keeps text comparison valid against rows either of us wrote.
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff";

    private readonly SqliteOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private readonly ConcurrentBag<Reader> _idleReaders = [];
    private SqliteConnection? _writer;
    private Statements? _statements;
    private ITimer? _cleanupTimer;
    private int _disposed;

    private SqliteStateStore(SqliteOptions options, TimeProvider timeProvider)
    {
        _options = options;
        _timeProvider = timeProvider;
    }

    public StateStoreFeatures Features => StateStoreFeatures.ETag | StateStoreFeatures.Transactional | StateStoreFeatures.Ttl;

    /// <summary>Validates the component's metadata (throwing <see cref="ComponentLoadException"/> naming the field) and creates the store.</summary>
    public static IStateStore Create(ComponentDefinition definition, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(definition);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new SqliteStateStore(SqliteOptions.From(definition), timeProvider);
    }

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_writer is not null) return;

        if (_options.DirectoryToCreate is { } directory) Directory.CreateDirectory(directory);

        var writer = new SqliteConnection(_options.ConnectionString);
        try
        {
            await writer.OpenAsync(cancellationToken);
            await ExecuteAsync(writer, $"PRAGMA busy_timeout = {(long)_options.BusyTimeout.TotalMilliseconds}", cancellationToken);
            if (!_options.DisableWal && !_options.IsMemory)
            {
                // journal_mode is persistent in the file; readers opened later inherit WAL.
                await ExecuteAsync(writer, "PRAGMA journal_mode = WAL", cancellationToken);
            }
            await MigrateAsync(writer, cancellationToken);
        }
        catch
        {
            await writer.DisposeAsync();
            throw;
        }

        _writer = writer;
        _statements = new Statements(writer, _options.TableName);
        if (_options.CleanupInterval > TimeSpan.Zero)
        {
            _cleanupTimer = _timeProvider.CreateTimer(_ => _ = CleanupExpiredAsync(), null, _options.CleanupInterval, _options.CleanupInterval);
        }
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        cancellationToken.ThrowIfCancellationRequested();
        if (_options.IsMemory)
        {
            // A private in-memory database exists only on the writer connection.
            return await WithWriterAsync(s => ReadEntry(s.Get, key), cancellationToken);
        }

        var reader = RentReader();
        try
        {
            return ReadEntry(reader.Get, key);
        }
        finally
        {
            ReturnReader(reader);
        }
    }

    public Task SetAsync(StateSetRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WithWriterAsync(s => ApplySet(s, request), cancellationToken);
    }

    public Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return WithWriterAsync(s => ApplyDelete(s, request), cancellationToken);
    }

    public Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(operations);
        return WithWriterAsync(s =>
        {
            // BEGIN IMMEDIATE: take the write lock up front, so another process on the same file
            // waits (busy_timeout) at the start instead of failing halfway.
            using var transaction = s.Connection.BeginTransaction(deferred: false);
            s.Enlist(transaction);
            try
            {
                foreach (var operation in operations)
                {
                    switch (operation)
                    {
                        case UpsertOperation upsert: ApplySet(s, upsert.Request); break;
                        case DeleteOperation delete: ApplyDelete(s, delete.Request); break;
                        default: throw new NotSupportedException($"unsupported state operation {operation.GetType().Name}");
                    }
                }
                transaction.Commit();
            }
            finally
            {
                s.Enlist(null);
            }
        }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (_cleanupTimer is not null) await _cleanupTimer.DisposeAsync();

        // Wait for an in-flight write so the connection is not closed under it.
        await _writeGate.WaitAsync();
        try
        {
            _statements?.Dispose();
            if (_writer is not null) await _writer.DisposeAsync();
            _writer = null;
        }
        finally
        {
            _writeGate.Release();
        }

        while (_idleReaders.TryTake(out var reader)) reader.Dispose();
    }

    private async Task WithWriterAsync(Action<Statements> action, CancellationToken cancellationToken) =>
        await WithWriterAsync(s =>
        {
            action(s);
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="action"/> with exclusive use of the writer connection, waiting at most the component's timeout.</summary>
    private async Task<T> WithWriterAsync<T>(Func<Statements, T> action, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            await _writeGate.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"timed out after {_options.Timeout} waiting to write to the SQLite state store");
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            var statements = _statements ?? throw new InvalidOperationException("the SQLite state store is not initialised (call InitAsync)");
            return action(statements);
        }
        finally
        {
            _writeGate.Release();
        }
    }

    private void ApplySet(Statements s, StateSetRequest request)
    {
        var now = _timeProvider.GetUtcNow();
        var (text, isBinary) = Encode(request.Value.Span);
        // A TTL of zero or less means no expiry, as components-contrib treats ttlInSeconds <= 0.
        var expiration = request.Ttl is { } ttl && ttl > TimeSpan.Zero ? Timestamp(now + ttl) : null;
        var etag = Guid.NewGuid().ToString();

        int affected;
        if (!string.IsNullOrEmpty(request.ETag))
        {
            affected = Statements.Run(s.UpdateWithETag, request.Key, text, isBinary, etag, Timestamp(now), expiration, request.ETag);
        }
        else if (request.FirstWrite)
        {
            // An expired row that cleanup has not removed yet counts as absent.
            affected = Statements.Run(s.InsertIfAbsent, request.Key, text, isBinary, etag, Timestamp(now), expiration, null);
        }
        else
        {
            affected = Statements.Run(s.Upsert, request.Key, text, isBinary, etag, Timestamp(now), expiration, null);
        }

        if (affected == 0) throw new ETagMismatchException(request.Key);
    }

    private void ApplyDelete(Statements s, StateDeleteRequest request)
    {
        var now = Timestamp(_timeProvider.GetUtcNow());
        if (string.IsNullOrEmpty(request.ETag))
        {
            Statements.Run(s.Delete, request.Key, null, false, null, now, null, null);
            return;
        }
        if (Statements.Run(s.DeleteWithETag, request.Key, null, false, null, now, null, request.ETag) == 0)
            throw new ETagMismatchException(request.Key);
    }

    private StateEntry? ReadEntry(SqliteCommand get, string key)
    {
        get.Parameters["$key"].Value = key;
        get.Parameters["$now"].Value = Timestamp(_timeProvider.GetUtcNow());
        using var row = get.ExecuteReader();
        if (!row.Read()) return null;

        var value = row.GetString(0);
        var bytes = row.GetBoolean(1) ? Convert.FromBase64String(value) : Encoding.UTF8.GetBytes(value);
        DateTimeOffset? expires = row.IsDBNull(3)
            ? null
            : DateTimeOffset.Parse(row.GetString(3), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        return new StateEntry(bytes, row.GetString(2), expires);
    }

    private async Task CleanupExpiredAsync()
    {
        try
        {
            await WithWriterAsync(
                s => Statements.Run(s.DeleteExpired, null, null, false, null, Timestamp(_timeProvider.GetUtcNow()), null, null),
                CancellationToken.None);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between ticks.
        }
        catch (SqliteException)
        {
            // Best effort: expired rows are invisible to reads anyway; the next tick retries.
        }
        catch (TimeoutException)
        {
        }
    }

    private async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        var table = _options.TableName;
        var metadata = _options.MetadataTableName;
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {metadata} (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL)", cancellationToken, transaction);
        await ExecuteAsync(connection, $"""
            CREATE TABLE IF NOT EXISTS {table} (
              key TEXT NOT NULL PRIMARY KEY,
              value TEXT NOT NULL,
              is_binary BOOLEAN NOT NULL,
              etag TEXT NOT NULL,
              expiration_time TIMESTAMP DEFAULT NULL,
              update_time TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
            )
            """, cancellationToken, transaction);
        await ExecuteAsync(connection, $"CREATE INDEX IF NOT EXISTS idx_{table}_expiration_time ON {table} (expiration_time)", cancellationToken, transaction);
        // components-contrib records its schema level here; '1' = the state table above exists.
        await ExecuteAsync(connection, $"INSERT OR IGNORE INTO {metadata} (key, value) VALUES ('migrations', '1')", cancellationToken, transaction);
        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, SqliteTransaction? transaction = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private Reader RentReader()
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (_writer is null) throw new InvalidOperationException("the SQLite state store is not initialised (call InitAsync)");
        return _idleReaders.TryTake(out var reader) ? reader : new Reader(_options, _options.TableName);
    }

    private void ReturnReader(Reader reader)
    {
        if (_disposed != 0 || _idleReaders.Count >= MaxIdleReaders)
        {
            reader.Dispose();
            return;
        }
        _idleReaders.Add(reader);
        // DisposeAsync may have drained the bag just before the Add: do not leave a connection holding the file open.
        if (_disposed != 0)
        {
            while (_idleReaders.TryTake(out var idle)) idle.Dispose();
        }
    }

    private static (string Text, bool IsBinary) Encode(ReadOnlySpan<byte> value) =>
        // Valid UTF-8 (the JSON the runtime stores) goes in as readable text; anything else as base64, as daprd does.
        Utf8.IsValid(value) ? (Encoding.UTF8.GetString(value), false) : (Convert.ToBase64String(value), true);

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static string SelectSql(string table) =>
        $"SELECT value, is_binary, etag, expiration_time FROM {table} WHERE key = $key AND (expiration_time IS NULL OR expiration_time > $now)";

    /// <summary>A read connection with its prepared query.</summary>
    private sealed class Reader : IDisposable
    {
        public Reader(SqliteOptions options, string table)
        {
            Connection = new SqliteConnection(options.ConnectionString);
            Connection.Open();
            using (var pragma = Connection.CreateCommand())
            {
                pragma.CommandText = $"PRAGMA busy_timeout = {(long)options.BusyTimeout.TotalMilliseconds}";
                pragma.ExecuteNonQuery();
            }
            Get = Connection.CreateCommand();
            Get.CommandText = SelectSql(table);
            Get.CommandTimeout = (int)Math.Ceiling(options.Timeout.TotalSeconds);
            Get.Parameters.Add("$key", SqliteType.Text);
            Get.Parameters.Add("$now", SqliteType.Text);
            Get.Prepare();
        }

        public SqliteConnection Connection { get; }

        public SqliteCommand Get { get; }

        public void Dispose()
        {
            Get.Dispose();
            Connection.Dispose();
        }
    }

    /// <summary>The writer connection's prepared statements, reused for every call.</summary>
    private sealed class Statements : IDisposable
    {
        private static readonly string[] WriteParameters = ["$key", "$value", "$is_binary", "$new_etag", "$now", "$expiration"];

        private readonly List<SqliteCommand> _all = [];

        public Statements(SqliteConnection connection, string table)
        {
            Connection = connection;
            Get = Prepare(SelectSql(table), "$key", "$now");
            Upsert = Prepare($"""
                INSERT INTO {table} (key, value, is_binary, etag, update_time, expiration_time)
                VALUES ($key, $value, $is_binary, $new_etag, $now, $expiration)
                ON CONFLICT (key) DO UPDATE SET
                  value = excluded.value, is_binary = excluded.is_binary, etag = excluded.etag,
                  update_time = excluded.update_time, expiration_time = excluded.expiration_time
                """, WriteParameters);
            InsertIfAbsent = Prepare($"""
                INSERT INTO {table} (key, value, is_binary, etag, update_time, expiration_time)
                VALUES ($key, $value, $is_binary, $new_etag, $now, $expiration)
                ON CONFLICT (key) DO UPDATE SET
                  value = excluded.value, is_binary = excluded.is_binary, etag = excluded.etag,
                  update_time = excluded.update_time, expiration_time = excluded.expiration_time
                WHERE {table}.expiration_time IS NOT NULL AND {table}.expiration_time <= $now
                """, WriteParameters);
            UpdateWithETag = Prepare($"""
                UPDATE {table} SET
                  value = $value, is_binary = $is_binary, etag = $new_etag, update_time = $now, expiration_time = $expiration
                WHERE key = $key AND etag = $etag AND (expiration_time IS NULL OR expiration_time > $now)
                """, [.. WriteParameters, "$etag"]);
            Delete = Prepare($"DELETE FROM {table} WHERE key = $key", "$key");
            DeleteWithETag = Prepare($"DELETE FROM {table} WHERE key = $key AND etag = $etag AND (expiration_time IS NULL OR expiration_time > $now)", "$key", "$etag", "$now");
            DeleteExpired = Prepare($"DELETE FROM {table} WHERE expiration_time IS NOT NULL AND expiration_time <= $now", "$now");
        }

        public SqliteConnection Connection { get; }
        public SqliteCommand Get { get; }
        public SqliteCommand Upsert { get; }
        public SqliteCommand InsertIfAbsent { get; }
        public SqliteCommand UpdateWithETag { get; }
        public SqliteCommand Delete { get; }
        public SqliteCommand DeleteWithETag { get; }
        public SqliteCommand DeleteExpired { get; }

        public void Enlist(SqliteTransaction? transaction)
        {
            foreach (var command in _all) command.Transaction = transaction;
        }

        /// <summary>Binds the parameters the statement uses and returns the affected row count.</summary>
        public static int Run(SqliteCommand command, string? key, string? value, bool isBinary, string? newETag, string now, string? expiration, string? etag)
        {
            foreach (SqliteParameter p in command.Parameters)
            {
                p.Value = p.ParameterName switch
                {
                    "$key" => key,
                    "$value" => value,
                    "$is_binary" => isBinary,
                    "$new_etag" => newETag,
                    "$now" => now,
                    "$expiration" => (object?)expiration ?? DBNull.Value,
                    "$etag" => etag,
                    _ => throw new InvalidOperationException(p.ParameterName),
                };
            }
            return command.ExecuteNonQuery();
        }

        public void Dispose()
        {
            foreach (var command in _all) command.Dispose();
        }

        private SqliteCommand Prepare(string sql, params string[] parameters)
        {
            var command = Connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in parameters) command.Parameters.Add(new SqliteParameter(name, null));
            command.Prepare();
            _all.Add(command);
            return command;
        }
    }
}
