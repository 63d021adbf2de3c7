using System.Globalization;
using System.Text.Json;
using AgentVerse.Runtime.Components;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentVerse.Runtime.Secrets;

/// <summary>
/// <c>secretstores.local.file</c>: secrets from a JSON file, as components-contrib's local file store.
/// Single-valued (default): nested JSON is flattened with <c>nestedSeparator</c> and each leaf is a secret
/// <c>{name: value}</c>. Multi-valued: each top-level key is a secret whose value is its flattened map.
/// </summary>
/// <remarks>
/// Unlike daprd, which reads the file once at init and fails when it is missing, the file is re-read whenever its
/// timestamp or size changes and a missing file is an empty store, so a secrets file generated after start-up is seen.
/// If a rewrite is caught half-written (invalid JSON), the last good content keeps being served.
/// </remarks>
public sealed class LocalFileSecretStore : ISecretStore
{
    private readonly string _separator;
    private readonly bool _multiValued;
    private readonly ILogger _logger;
    private volatile Snapshot _snapshot = Snapshot.Empty;

    /// <param name="secretsFile">the JSON file; a relative path is resolved against the current directory, like daprd</param>
    /// <param name="nestedSeparator">joins the keys of nested objects (default <c>:</c>)</param>
    /// <param name="multiValued">top-level keys are multi-key secrets</param>
    /// <param name="logger">optional</param>
    public LocalFileSecretStore(string secretsFile, string nestedSeparator = ":", bool multiValued = false, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secretsFile);
        SecretsFile = Path.GetFullPath(secretsFile);
        _separator = string.IsNullOrEmpty(nestedSeparator) ? ":" : nestedSeparator;
        _multiValued = multiValued;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Absolute path of the secrets file.</summary>
    public string SecretsFile { get; }

    /// <summary>
    /// Creates the store from component metadata (<c>secretsFile</c> required, <c>nestedSeparator</c>, <c>multiValued</c>)
    /// and reads the file once so that invalid JSON fails start-up.
    /// </summary>
    /// <exception cref="ComponentLoadException">missing <c>secretsFile</c>, bad <c>multiValued</c>, or the file is not a JSON object</exception>
    public static async Task<LocalFileSecretStore> CreateAsync(ComponentDefinition definition, ILogger? logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var file = definition.Get("secretsFile");
        if (string.IsNullOrEmpty(file))
        {
            throw definition.Invalid("spec.metadata.secretsFile", "missing local secrets file in metadata");
        }
        // components-contrib decodes booleans as "truthy": anything but y/yes/true/t/on/1 is false, never an error.
        var multiValued = MetadataBool.IsTruthy(definition.Get("multiValued"));
        var store = new LocalFileSecretStore(file, definition.Get("nestedSeparator") ?? ":", multiValued, logger);
        if (!File.Exists(store.SecretsFile))
        {
            logger?.LogWarning("Secrets file {File} of component {Component} does not exist yet; it is read when it appears", store.SecretsFile, definition.Name);
            return store;
        }
        try
        {
            await store.CurrentAsync(throwOnInvalid: true, cancellationToken);
        }
        catch (JsonException ex)
        {
            throw definition.Invalid("spec.metadata.secretsFile", $"{store.SecretsFile} is not a JSON object: {ex.Message}");
        }
        return store;
    }

    public async Task<IReadOnlyDictionary<string, string>> GetSecretAsync(string name, IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken)
    {
        var secrets = await CurrentAsync(throwOnInvalid: false, cancellationToken);
        return secrets.TryGetValue(name, out var secret) ? secret : throw new SecretNotFoundException(name);
    }

    public async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> BulkGetSecretAsync(IReadOnlyDictionary<string, string> metadata, CancellationToken cancellationToken) =>
        await CurrentAsync(throwOnInvalid: false, cancellationToken);

    private async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> CurrentAsync(bool throwOnInvalid, CancellationToken cancellationToken)
    {
        var stamp = Stamp();
        var snapshot = _snapshot;
        if (snapshot.Stamp == stamp)
        {
            return snapshot.Secrets;
        }

        // Concurrent callers may both re-read after a change; that is harmless and cheaper than a lock on every read.
        if (stamp is null)
        {
            _snapshot = Snapshot.Empty;
            return _snapshot.Secrets;
        }

        try
        {
            var bytes = await File.ReadAllBytesAsync(SecretsFile, cancellationToken);
            _snapshot = new Snapshot(stamp, Read(bytes));
        }
        catch (Exception ex) when (!throwOnInvalid && ex is JsonException or IOException)
        {
            // Most likely caught mid-write; keep serving what we had and try again on the next call.
            _logger.LogWarning(ex, "Cannot read secrets file {File}; serving the previous content", SecretsFile);
        }
        return _snapshot.Secrets;
    }

    private FileStamp? Stamp()
    {
        var info = new FileInfo(SecretsFile);
        return info.Exists ? new FileStamp(info.LastWriteTimeUtc, info.Length) : null;
    }

    private Dictionary<string, IReadOnlyDictionary<string, string>> Read(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new JsonException("the secrets file must hold a JSON object");
        }

        var secrets = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        if (_multiValued)
        {
            // components-contrib keeps top-level strings and objects and ignores other top-level values.
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    secrets[property.Name] = new Dictionary<string, string>(StringComparer.Ordinal) { [property.Name] = property.Value.GetString()! };
                }
                else if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    var flat = new Dictionary<string, string>(StringComparer.Ordinal);
                    Flatten(property.Value, null, flat);
                    secrets[property.Name] = flat;
                }
            }
        }
        else
        {
            var flat = new Dictionary<string, string>(StringComparer.Ordinal);
            Flatten(document.RootElement, null, flat);
            foreach (var (name, value) in flat)
            {
                secrets[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [name] = value };
            }
        }
        return secrets;
    }

    private void Flatten(JsonElement element, string? path, Dictionary<string, string> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    Flatten(property.Value, path is null ? property.Name : path + _separator + property.Name, into);
                }
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var index = i++.ToString(CultureInfo.InvariantCulture);
                    Flatten(item, path is null ? index : path + _separator + index, into);
                }
                break;
            default:
                // The first value wins when two paths flatten to the same name ({"a:b":1, "a":{"b":2}}).
                into.TryAdd(path ?? "", element.ValueKind switch
                {
                    JsonValueKind.String => element.GetString()!,
                    JsonValueKind.Null => "",
                    _ => element.GetRawText(),
                });
                break;
        }
    }

    private sealed record FileStamp(DateTime LastWriteUtc, long Length);

    private sealed record Snapshot(FileStamp? Stamp, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Secrets)
    {
        public static readonly Snapshot Empty = new(null, new Dictionary<string, IReadOnlyDictionary<string, string>>());
    }
}
