using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentVerse.Dapr.Actors;

/// <summary>
/// The app side of Dapr actors: keeps activations, dispatches the sidecar's callbacks to actor methods,
/// reminders and timers, and saves or drops state at the end of each turn. Turns themselves are
/// serialized by the sidecar, so this class never queues calls.
/// </summary>
internal sealed class ActorRuntime
{
    private readonly ConcurrentDictionary<(string Type, string Id), Lazy<Task<Actor>>> _active = new();
    private readonly Dictionary<string, ActorTypeInfo> _types;
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly ActorSidecarClient _sidecar;
    private readonly ActorProxyFactory _proxyFactory;

    public ActorRuntime(IOptions<ActorRuntimeOptions> options, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        Options = options.Value;
        _services = services;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<ActorRuntime>();
        _types = Options.Actors.ToDictionary(a => a.Key, a => new ActorTypeInfo(a.Value), StringComparer.Ordinal);
        var proxyOptions = new ActorProxyOptions
        {
            HttpEndpoint = Options.DaprHttpEndpoint,
            DaprApiToken = Options.DaprApiToken,
            JsonSerializerOptions = Options.JsonSerializerOptions,
        };
        _sidecar = ActorSidecarClient.For(proxyOptions.HttpEndpoint, proxyOptions.DaprApiToken, proxyOptions.RequestTimeout);
        _proxyFactory = new ActorProxyFactory(proxyOptions);
    }

    public ActorRuntimeOptions Options { get; }

    public bool Hosts(string actorType) => _types.ContainsKey(actorType);

    /// <summary>Runs an actor method in a turn: 404 for an unknown method, 500 (state dropped) when it throws.</summary>
    public async Task<(int Status, byte[] Body)> InvokeMethodAsync(string actorType, string actorId, string method, Stream body, string? reentrancyId, CancellationToken cancellationToken)
    {
        var info = _types[actorType];
        var target = info.FindMethod(method);
        if (target is null)
        {
            return (404, ActorJson.Utf8.GetBytes($"actor type {actorType} has no method {method}"));
        }
        object? argument = null;
        if (target.Argument is { } argumentType)
        {
            using var buffer = new MemoryStream();
            await body.CopyToAsync(buffer, cancellationToken);
            argument = buffer.Length == 0 ? null : DeserializeArgument(buffer.ToArray(), argumentType);
        }
        return await RunTurnAsync(actorType, actorId, reentrancyId, async actor =>
        {
            var result = await target.InvokeAsync(actor, argument, cancellationToken);
            return target.Result is null ? [] : JsonSerializer.SerializeToUtf8Bytes(result, target.Result, Options.JsonSerializerOptions);
        });
    }

    // The Dapr JavaScript SDK's proxies send the argument list as a JSON array ([5] for f(5)); a method taking
    // one non-collection argument accepts that shape too, so JS clients can call .NET actors.
    private object? DeserializeArgument(byte[] body, Type argumentType)
    {
        if (body.AsSpan().TrimStart(" \t\r\n"u8) is [(byte)'[', ..] && !IsCollection(argumentType))
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.GetArrayLength() <= 1)
            {
                return document.RootElement.GetArrayLength() == 0
                    ? null
                    : document.RootElement[0].Deserialize(argumentType, Options.JsonSerializerOptions);
            }
        }
        return JsonSerializer.Deserialize(body, argumentType, Options.JsonSerializerOptions);
    }

    private static bool IsCollection(Type type) =>
        type != typeof(string) && (type.IsArray || typeof(System.Collections.IEnumerable).IsAssignableFrom(type) || type == typeof(JsonElement) || type == typeof(object));

    /// <summary><c>PUT .../method/remind/{name}</c>: <c>{"data","dueTime","period"}</c>.</summary>
    public async Task<(int Status, byte[] Body)> ReceiveReminderAsync(string actorType, string actorId, string name, Stream body, CancellationToken cancellationToken)
    {
        using var payload = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = payload.RootElement;
        var state = root.TryGetProperty("data", out var data) ? Bytes(data) : [];
        var dueTime = ActorDurations.Parse(root.TryGetProperty("dueTime", out var d) ? d.GetString() : null, emptyIsInfinite: false);
        var period = ActorDurations.Parse(root.TryGetProperty("period", out var p) ? p.GetString() : null, emptyIsInfinite: true);
        return await RunTurnAsync(actorType, actorId, null, async actor =>
        {
            if (actor is not IRemindable remindable)
            {
                throw new InvalidOperationException($"actor type {actorType} does not implement IRemindable");
            }
            await remindable.ReceiveReminderAsync(name, state, dueTime, period);
            return [];
        });
    }

    /// <summary><c>PUT .../method/timer/{name}</c>: calls the registered callback method, with the timer's bytes when it takes them.</summary>
    public async Task<(int Status, byte[] Body)> ReceiveTimerAsync(string actorType, string actorId, Stream body, CancellationToken cancellationToken)
    {
        using var payload = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
        var root = payload.RootElement;
        var callback = root.TryGetProperty("callback", out var c) ? c.GetString() : null;
        var state = root.TryGetProperty("data", out var data) ? Bytes(data) : [];
        var method = callback is null ? null : _types[actorType].Implementation.GetMethod(callback, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
        if (method is null)
        {
            return (404, ActorJson.Utf8.GetBytes($"actor type {actorType} has no timer callback {callback}"));
        }
        return await RunTurnAsync(actorType, actorId, null, async actor =>
        {
            var arguments = method.GetParameters().Length == 1 ? new object?[] { state } : [];
            if (method.Invoke(actor, arguments) is Task task)
            {
                await task;
            }
            return [];
        });
    }

    /// <summary><c>DELETE /actors/{type}/{id}</c>: the sidecar deactivates the actor.</summary>
    public async Task DeactivateAsync(string actorType, string actorId)
    {
        if (_active.TryRemove((actorType, actorId), out var activation))
        {
            var actor = await activation.Value;
            await actor.OnDeactivateAsync();
        }
    }

    private async Task<(int Status, byte[] Body)> RunTurnAsync(string actorType, string actorId, string? reentrancyId, Func<Actor, Task<byte[]>> turn)
    {
        var previousChain = ActorSidecarClient.CurrentReentrancyId.Value;
        ActorSidecarClient.CurrentReentrancyId.Value = reentrancyId;
        Actor? actor = null;
        try
        {
            actor = await ActivateAsync(actorType, actorId);
            var result = await turn(actor);
            await actor.StateManager.SaveStateAsync();
            return (200, result);
        }
        catch (Exception e)
        {
            var error = e is TargetInvocationException { InnerException: { } inner } ? inner : e;
            _logger.LogWarning(error, "Actor {ActorType}/{ActorId} turn failed; its state changes are dropped", actorType, actorId);
            if (actor is not null)
            {
                await actor.StateManager.ClearCacheAsync();
            }
            return (500, JsonSerializer.SerializeToUtf8Bytes(new { error = error.Message, type = error.GetType().FullName }));
        }
        finally
        {
            ActorSidecarClient.CurrentReentrancyId.Value = previousChain;
        }
    }

    private async Task<Actor> ActivateAsync(string actorType, string actorId)
    {
        var activation = _active.GetOrAdd((actorType, actorId), key => new Lazy<Task<Actor>>(async () =>
        {
            var host = new ActorHost(key.Type, new ActorId(key.Id), _sidecar, Options.JsonSerializerOptions, _loggerFactory, _proxyFactory);
            var actor = (Actor)ActivatorUtilities.CreateInstance(_services, _types[key.Type].Implementation, host);
            await actor.OnActivateAsync();
            return actor;
        }));
        try
        {
            return await activation.Value;
        }
        catch
        {
            // A failed activation must not stick: the next call tries again.
            _active.TryRemove(new KeyValuePair<(string, string), Lazy<Task<Actor>>>((actorType, actorId), activation));
            throw;
        }
    }

    // Data registered by this library is base64 bytes (a JSON string); data from other SDKs is handed over as its raw JSON.
    private static byte[] Bytes(JsonElement data) => data.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => [],
        JsonValueKind.String when data.TryGetBytesFromBase64(out var bytes) => bytes,
        _ => ActorJson.Utf8.GetBytes(data.GetRawText()),
    };

    /// <summary>An actor class and the methods its actor interfaces expose.</summary>
    private sealed class ActorTypeInfo
    {
        private readonly Dictionary<string, ActorMethod> _methods = new(StringComparer.Ordinal);

        public ActorTypeInfo(Type implementation)
        {
            Implementation = implementation;
            foreach (var contract in implementation.GetInterfaces().Where(i => i != typeof(IActor) && typeof(IActor).IsAssignableFrom(i)))
            {
                foreach (var method in contract.GetMethods())
                {
                    _methods[method.Name] = new ActorMethod(method);
                }
            }
        }

        public Type Implementation { get; }

        // The .NET SDK dispatches on the exact method name; SDKs without the Async convention can leave the suffix off.
        public ActorMethod? FindMethod(string name) =>
            _methods.GetValueOrDefault(name) ?? _methods.GetValueOrDefault(name + "Async");
    }

    private sealed class ActorMethod
    {
        private readonly MethodInfo _method;
        private readonly PropertyInfo? _taskResult;
        private readonly bool[] _isCancellationToken;

        public ActorMethod(MethodInfo method)
        {
            _method = method;
            _isCancellationToken = [.. method.GetParameters().Select(p => p.ParameterType == typeof(CancellationToken))];
            var parameters = method.GetParameters().Where(p => p.ParameterType != typeof(CancellationToken)).ToList();
            if (parameters.Count > 1)
            {
                throw new NotSupportedException($"actor method {method.DeclaringType?.Name}.{method.Name} takes more than one argument");
            }
            Argument = parameters.Count == 1 ? parameters[0].ParameterType : null;
            if (method.ReturnType.IsGenericType && method.ReturnType.GetGenericTypeDefinition() == typeof(Task<>))
            {
                Result = method.ReturnType.GetGenericArguments()[0];
                _taskResult = method.ReturnType.GetProperty(nameof(Task<object>.Result));
            }
            else if (method.ReturnType != typeof(Task))
            {
                throw new NotSupportedException($"actor method {method.DeclaringType?.Name}.{method.Name} must return Task or Task<T>");
            }
        }

        public Type? Argument { get; }
        public Type? Result { get; }

        public async Task<object?> InvokeAsync(Actor actor, object? argument, CancellationToken cancellationToken)
        {
            var arguments = new object?[_isCancellationToken.Length];
            for (var i = 0; i < arguments.Length; i++)
            {
                arguments[i] = _isCancellationToken[i] ? cancellationToken : argument;
            }
            var task = (Task)_method.Invoke(actor, arguments)!;
            await task;
            return _taskResult?.GetValue(task);
        }
    }
}
