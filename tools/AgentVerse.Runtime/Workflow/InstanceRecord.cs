using System.Text.Json;
using Dapr.DurableTask.Protobuf;
using Google.Protobuf;

namespace AgentVerse.Runtime.Workflow;

/// <summary>
/// Everything the engine knows about one workflow instance: the committed history, the inbox of events
/// not yet shown to the workflow, and the side effects still owed to it (activities to run, timers to
/// fire). One record is persisted as one value, so each step commits atomically.
/// </summary>
internal sealed class InstanceRecord
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    public required string InstanceId { get; init; }
    public string Name { get; set; } = "";
    public string? ExecutionId { get; set; }
    public OrchestrationStatus Status { get; set; } = OrchestrationStatus.Pending;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset LastUpdatedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public DateTimeOffset? ScheduledStartAt { get; set; }
    public string? Input { get; set; }
    public string? Output { get; set; }
    public string? CustomStatus { get; set; }
    public TaskFailureDetails? Failure { get; set; }
    public List<HistoryEvent> History { get; private set; } = [];
    public List<HistoryEvent> Inbox { get; private set; } = [];

    /// <summary>Scheduled activities whose result has not arrived yet, by task id.</summary>
    public SortedDictionary<int, ActivityRequest> Activities { get; private set; } = [];

    /// <summary>Durable timers not yet fired, by timer id; the value is the event to deliver.</summary>
    public SortedDictionary<int, TimerFiredEvent> Timers { get; private set; } = [];

    public bool IsTerminal => IsTerminalStatus(Status);

    public static bool IsTerminalStatus(OrchestrationStatus status) => status is OrchestrationStatus.Completed
        or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    /// <summary>A copy whose collections can be changed without touching this one (events themselves are never mutated).</summary>
    public InstanceRecord Clone()
    {
        var copy = (InstanceRecord)MemberwiseClone();
        copy.History = [.. History];
        copy.Inbox = [.. Inbox];
        copy.Activities = new SortedDictionary<int, ActivityRequest>(Activities);
        copy.Timers = new SortedDictionary<int, TimerFiredEvent>(Timers);
        return copy;
    }

    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteNumber("v", 1);
            json.WriteString("instanceId", InstanceId);
            json.WriteString("name", Name);
            WriteOptional(json, "executionId", ExecutionId);
            json.WriteString("status", Status.ToString());
            json.WriteString("createdAt", CreatedAt);
            json.WriteString("lastUpdatedAt", LastUpdatedAt);
            if (CompletedAt is { } completed)
            {
                json.WriteString("completedAt", completed);
            }
            if (ScheduledStartAt is { } scheduled)
            {
                json.WriteString("scheduledStartAt", scheduled);
            }
            WriteOptional(json, "input", Input);
            WriteOptional(json, "output", Output);
            WriteOptional(json, "customStatus", CustomStatus);
            if (Failure is not null)
            {
                json.WriteBase64String("failure", Failure.ToByteArray());
            }
            // Protobuf bytes keep every field (including ones this runtime does not know) exactly as the worker sent them.
            WriteMessages(json, "history", History);
            WriteMessages(json, "inbox", Inbox);
            WriteMessages(json, "activities", Activities.Values);
            WriteMessages(json, "timers", Timers.Values);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static InstanceRecord Deserialize(ReadOnlyMemory<byte> bytes)
    {
        using var document = JsonDocument.Parse(bytes);
        var root = document.RootElement;
        var record = new InstanceRecord
        {
            InstanceId = root.GetProperty("instanceId").GetString()!,
            Name = root.GetProperty("name").GetString() ?? "",
            ExecutionId = OptionalString(root, "executionId"),
            Status = Enum.Parse<OrchestrationStatus>(root.GetProperty("status").GetString()!),
            CreatedAt = root.GetProperty("createdAt").GetDateTimeOffset(),
            LastUpdatedAt = root.GetProperty("lastUpdatedAt").GetDateTimeOffset(),
            CompletedAt = root.TryGetProperty("completedAt", out var c) ? c.GetDateTimeOffset() : null,
            ScheduledStartAt = root.TryGetProperty("scheduledStartAt", out var s) ? s.GetDateTimeOffset() : null,
            Input = OptionalString(root, "input"),
            Output = OptionalString(root, "output"),
            CustomStatus = OptionalString(root, "customStatus"),
            Failure = root.TryGetProperty("failure", out var f) ? TaskFailureDetails.Parser.ParseFrom(f.GetBytesFromBase64()) : null,
        };
        record.History.AddRange(ReadMessages(root, "history", HistoryEvent.Parser));
        record.Inbox.AddRange(ReadMessages(root, "inbox", HistoryEvent.Parser));
        foreach (var activity in ReadMessages(root, "activities", ActivityRequest.Parser))
        {
            record.Activities[activity.TaskId] = activity;
        }
        foreach (var timer in ReadMessages(root, "timers", TimerFiredEvent.Parser))
        {
            record.Timers[timer.TimerId] = timer;
        }
        return record;
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static string? OptionalString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static void WriteMessages(Utf8JsonWriter json, string name, IEnumerable<IMessage> messages)
    {
        json.WriteStartArray(name);
        foreach (var message in messages)
        {
            json.WriteBase64StringValue(message.ToByteArray());
        }
        json.WriteEndArray();
    }

    private static IEnumerable<T> ReadMessages<T>(JsonElement root, string name, MessageParser<T> parser)
        where T : IMessage<T>
    {
        if (!root.TryGetProperty(name, out var array))
        {
            yield break;
        }
        foreach (var item in array.EnumerateArray())
        {
            yield return parser.ParseFrom(item.GetBytesFromBase64());
        }
    }
}
