namespace AgentVerse.Dapr;

/// <summary>One event of a bulk publish, as sent to the sidecar.</summary>
/// <param name="EntryId">Identifies the entry within the request (unique per request); failures refer to it.</param>
/// <param name="EventData">The event.</param>
/// <param name="ContentType"><c>application/json</c>, or <c>application/cloudevents+json</c> for a <see cref="CloudEvent"/>.</param>
/// <param name="Metadata">Per-entry metadata; none is sent today.</param>
public sealed record BulkPublishEntry<TValue>(string EntryId, TValue EventData, string ContentType, IReadOnlyDictionary<string, string>? Metadata = null);

/// <summary>An entry of a bulk publish that the sidecar could not publish.</summary>
/// <param name="Entry">The entry, with the event given to <see cref="DaprClient.BulkPublishEventAsync{TValue}"/>.</param>
/// <param name="ErrorMessage">The broker's error for it.</param>
public sealed record BulkPublishResponseFailedEntry<TValue>(BulkPublishEntry<TValue> Entry, string ErrorMessage);

/// <summary>The outcome of <see cref="DaprClient.BulkPublishEventAsync{TValue}"/>: the entries that failed, none when all were published.</summary>
/// <param name="FailedEntries">The failed entries, in request order.</param>
public sealed record BulkPublishResponse<TValue>(IReadOnlyList<BulkPublishResponseFailedEntry<TValue>> FailedEntries);
