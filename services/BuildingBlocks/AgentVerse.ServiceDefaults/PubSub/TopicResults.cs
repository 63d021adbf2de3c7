using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentVerse.ServiceDefaults.PubSub;

/// <summary>
/// What a subscriber answers Dapr for a delivered event (<c>{"status": "SUCCESS" | "RETRY" | "DROP"}</c>); the SDK
/// has these only for bulk subscriptions.
/// </summary>
public static class TopicResults
{
    /// <summary>The event was handled.</summary>
    public static Ok<TopicResponse> Success() => TypedResults.Ok(new TopicResponse("SUCCESS"));

    /// <summary>Deliver the event again later (transient failure).</summary>
    public static Ok<TopicResponse> Retry() => TypedResults.Ok(new TopicResponse("RETRY"));

    /// <summary>Never deliver it again; Dapr sends it to the dead-letter topic when there is one.</summary>
    public static Ok<TopicResponse> Drop() => TypedResults.Ok(new TopicResponse("DROP"));
}

/// <summary>A subscriber's answer to Dapr.</summary>
/// <param name="Status">SUCCESS, RETRY or DROP.</param>
public sealed record TopicResponse(string Status);
