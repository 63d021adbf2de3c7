using System.Reflection;
using System.Text.Json;

namespace AgentVerse.Dapr.Actors;

/// <summary>
/// Calls one actor through the sidecar (<c>PUT /v1.0/actors/{type}/{id}/method/{method}</c>) with JSON bodies.
/// Use <see cref="Create{TActorInterface}"/> for a typed proxy, or the <c>InvokeMethodAsync</c> overloads by name.
/// </summary>
public sealed class ActorProxy
{
    private readonly ActorSidecarClient _sidecar;
    private readonly JsonSerializerOptions _json;

    internal ActorProxy(ActorId actorId, string actorType, ActorSidecarClient sidecar, JsonSerializerOptions json)
    {
        ActorId = actorId;
        ActorType = actorType;
        _sidecar = sidecar;
        _json = json;
    }

    /// <summary>The actor called.</summary>
    public ActorId ActorId { get; }

    /// <summary>The actor's type name.</summary>
    public string ActorType { get; }

    /// <summary>A typed proxy: each interface method calls the actor method of the same name (as the Dapr .NET SDK names them).</summary>
    public static TActorInterface Create<TActorInterface>(ActorId actorId, string actorType, ActorProxyOptions? options = null)
        where TActorInterface : IActor =>
        ActorProxyFactory.For(options).CreateActorProxy<TActorInterface>(actorId, actorType);

    /// <summary>A proxy that calls methods by name.</summary>
    public static ActorProxy Create(ActorId actorId, string actorType, ActorProxyOptions? options = null) =>
        ActorProxyFactory.For(options).Create(actorId, actorType);

    /// <summary>Calls <paramref name="method"/> with <paramref name="data"/> as JSON and reads the JSON result.</summary>
    public async Task<TResponse> InvokeMethodAsync<TRequest, TResponse>(string method, TRequest data, CancellationToken cancellationToken = default)
    {
        var body = await _sidecar.InvokeAsync(ActorType, ActorId.Id, method, JsonSerializer.SerializeToUtf8Bytes(data, _json), cancellationToken);
        return Deserialize<TResponse>(body);
    }

    /// <summary>Calls <paramref name="method"/> with <paramref name="data"/> as JSON, ignoring any result.</summary>
    public Task InvokeMethodAsync<TRequest>(string method, TRequest data, CancellationToken cancellationToken = default) =>
        _sidecar.InvokeAsync(ActorType, ActorId.Id, method, JsonSerializer.SerializeToUtf8Bytes(data, _json), cancellationToken);

    /// <summary>Calls <paramref name="method"/> without a body and reads the JSON result.</summary>
    public async Task<TResponse> InvokeMethodAsync<TResponse>(string method, CancellationToken cancellationToken = default) =>
        Deserialize<TResponse>(await _sidecar.InvokeAsync(ActorType, ActorId.Id, method, null, cancellationToken));

    /// <summary>Calls <paramref name="method"/> without a body, ignoring any result.</summary>
    public Task InvokeMethodAsync(string method, CancellationToken cancellationToken = default) =>
        _sidecar.InvokeAsync(ActorType, ActorId.Id, method, null, cancellationToken);

    internal async Task<object?> InvokeAsync(string method, object? argument, Type? argumentType, Type? resultType, CancellationToken cancellationToken)
    {
        var body = argumentType is null ? null : JsonSerializer.SerializeToUtf8Bytes(argument, argumentType, _json);
        var reply = await _sidecar.InvokeAsync(ActorType, ActorId.Id, method, body, cancellationToken);
        return resultType is null || reply.Length == 0 ? null : JsonSerializer.Deserialize(reply, resultType, _json);
    }

    private TResponse Deserialize<TResponse>(byte[] body) =>
        body.Length == 0 ? default! : JsonSerializer.Deserialize<TResponse>(body, _json)!;
}

/// <summary>Creates actor proxies that share one sidecar connection pool.</summary>
public sealed class ActorProxyFactory
{
    private readonly ActorSidecarClient _sidecar;
    private readonly JsonSerializerOptions _json;

    /// <summary>A factory for the sidecar named by <paramref name="options"/> (or the environment).</summary>
    public ActorProxyFactory(ActorProxyOptions? options = null)
    {
        options ??= new ActorProxyOptions();
        _sidecar = ActorSidecarClient.For(options.HttpEndpoint, options.DaprApiToken, options.RequestTimeout);
        _json = options.JsonSerializerOptions;
    }

    internal static ActorProxyFactory For(ActorProxyOptions? options) => new(options);

    /// <summary>A typed proxy for <typeparamref name="TActorInterface"/>.</summary>
    public TActorInterface CreateActorProxy<TActorInterface>(ActorId actorId, string actorType)
        where TActorInterface : IActor
    {
        var proxy = DispatchProxy.Create<TActorInterface, TypedActorProxy>();
        ((TypedActorProxy)(object)proxy!).Target = Create(actorId, actorType);
        return proxy;
    }

    /// <summary>A proxy that calls methods by name.</summary>
    public ActorProxy Create(ActorId actorId, string actorType)
    {
        ArgumentNullException.ThrowIfNull(actorId);
        ArgumentException.ThrowIfNullOrEmpty(actorType);
        return new ActorProxy(actorId, actorType, _sidecar, _json);
    }
}

/// <summary>
/// The typed proxy behind <see cref="ActorProxy.Create{TActorInterface}"/>. Methods return <see cref="Task"/>
/// or <see cref="Task{TResult}"/>, take at most one argument plus an optional trailing <see cref="CancellationToken"/>;
/// the actor method name is the interface method's name, unchanged (the Dapr .NET SDK's JSON proxy does the same).
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives a runtime type from this class, so it cannot be sealed.
internal class TypedActorProxy : DispatchProxy
#pragma warning restore CA1852
{
    private static readonly MethodInfo CastMethod = typeof(TypedActorProxy).GetMethod(nameof(CastAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    // Reflection over an interface method is the same on every call: do it once per method.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<MethodInfo, CallShape> Shapes = new();

    internal ActorProxy Target { get; set; } = null!;

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        args ??= [];
        var shape = Shapes.GetOrAdd(targetMethod, CallShape.Of);
        var cancellationToken = shape.CancellationTokenIndex is int c ? (CancellationToken)args[c]! : CancellationToken.None;
        var argument = shape.ArgumentIndex is int a ? args[a] : null;
        var call = Target.InvokeAsync(targetMethod.Name, argument, shape.ArgumentType, shape.ResultType, cancellationToken);
        return shape.Cast is null ? call : shape.Cast(call);
    }

    private sealed record CallShape(int? ArgumentIndex, Type? ArgumentType, int? CancellationTokenIndex, Type? ResultType, Func<Task<object?>, object>? Cast)
    {
        public static CallShape Of(MethodInfo method)
        {
            var parameters = method.GetParameters();
            var payload = parameters.Where(p => p.ParameterType != typeof(CancellationToken)).ToList();
            if (payload.Count > 1)
            {
                throw new NotSupportedException($"actor method {method.Name} takes {payload.Count} arguments; actor methods take at most one");
            }
            var token = parameters.FirstOrDefault(p => p.ParameterType == typeof(CancellationToken))?.Position;
            var returnType = method.ReturnType;
            if (returnType == typeof(Task))
            {
                return new CallShape(payload.FirstOrDefault()?.Position, payload.FirstOrDefault()?.ParameterType, token, null, null);
            }
            if (returnType.IsGenericType && returnType.GetGenericTypeDefinition() == typeof(Task<>))
            {
                var resultType = returnType.GetGenericArguments()[0];
                var cast = CastMethod.MakeGenericMethod(resultType).CreateDelegate<Func<Task<object?>, object>>();
                return new CallShape(payload.FirstOrDefault()?.Position, payload.FirstOrDefault()?.ParameterType, token, resultType, cast);
            }
            throw new NotSupportedException($"actor method {method.Name} must return Task or Task<T>");
        }
    }

    private static async Task<T> CastAsync<T>(Task<object?> call) => await call is T result ? result : default!;
}
