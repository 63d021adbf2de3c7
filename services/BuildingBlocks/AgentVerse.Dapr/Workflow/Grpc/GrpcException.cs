namespace AgentVerse.Dapr.Workflow.Grpc;

/// <summary>A gRPC call ended with a non-OK status.</summary>
public sealed class GrpcException : Exception
{
    /// <summary>Creates the exception for <paramref name="statusCode"/> and the server's status message.</summary>
    public GrpcException(GrpcStatusCode statusCode, string? message)
        : this(statusCode, message, innerException: null)
    {
    }

    /// <summary>Creates the exception with the transport error that caused it.</summary>
    public GrpcException(GrpcStatusCode statusCode, string? message, Exception? innerException)
        : base($"Status(StatusCode=\"{statusCode}\", Detail=\"{message}\")", innerException)
    {
        StatusCode = statusCode;
        Detail = message ?? string.Empty;
    }

    /// <summary>The gRPC status code.</summary>
    public GrpcStatusCode StatusCode { get; }

    /// <summary>The status message (<c>grpc-message</c>, percent-decoded).</summary>
    public string Detail { get; }
}
