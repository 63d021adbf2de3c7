namespace AgentVerse.Dapr.Actors;

/// <summary>Identifies one actor instance within its actor type.</summary>
public sealed record ActorId
{
    /// <summary>Creates an id; it must be non-empty.</summary>
    public ActorId(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        Id = id;
    }

    /// <summary>The id as Dapr sees it in <c>/actors/{type}/{id}</c>.</summary>
    public string Id { get; }

    /// <summary>A new random id (a GUID without dashes).</summary>
    public static ActorId CreateRandom() => new(Guid.NewGuid().ToString("N"));

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>Marker for actor interfaces: every method of an interface deriving from it can be called through the sidecar.</summary>
#pragma warning disable CA1040 // A marker interface is the contract Dapr's .NET SDK established; the typed proxy keys on it.
public interface IActor
{
}
#pragma warning restore CA1040

/// <summary>An actor that receives reminders (<c>PUT /actors/{type}/{id}/method/remind/{name}</c>).</summary>
public interface IRemindable
{
    /// <summary>Called in the actor's turn when a reminder fires; state changes are saved when it returns.</summary>
    /// <param name="reminderName">the reminder's name</param>
    /// <param name="state">the bytes given at registration (or the raw JSON data when another SDK registered it)</param>
    /// <param name="dueTime">the due time the reminder was registered with</param>
    /// <param name="period">the period, or <see cref="Timeout.InfiniteTimeSpan"/> for a one-shot reminder</param>
    Task ReceiveReminderAsync(string reminderName, byte[] state, TimeSpan dueTime, TimeSpan period);
}

/// <summary>A failed actor call: the sidecar's status, its Dapr error code and message.</summary>
public sealed class ActorInvocationException : DaprException
{
    /// <summary>Creates the exception.</summary>
    public ActorInvocationException(int statusCode, string? errorCode, string message) : base(message)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    /// <summary>Creates the exception without details.</summary>
    public ActorInvocationException() : this(500, null, "actor invocation failed")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ActorInvocationException(string message) : this(500, null, message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public ActorInvocationException(string message, Exception innerException) : base(message, innerException)
    {
        StatusCode = 500;
    }

    /// <summary>HTTP status the sidecar answered with.</summary>
    public int StatusCode { get; }

    /// <summary>Dapr error code such as <c>ERR_ACTOR_INVOKE_METHOD</c>, when the sidecar gave one.</summary>
    public string? ErrorCode { get; }
}
