using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace AgentVerse.Runtime.Sidecar;

/// <summary>
/// W3C trace context as daprd handles it: continue the caller's trace (or start one) and give each
/// hop the sidecar makes a fresh span id, so the app sees <c>traceparent</c> with the same trace id.
/// </summary>
internal readonly record struct TraceContext(ActivityTraceId TraceId, ActivitySpanId SpanId, ActivityTraceFlags Flags, string? TraceState)
{
    public string TraceParent => $"00-{TraceId.ToHexString()}-{SpanId.ToHexString()}-{(Flags.HasFlag(ActivityTraceFlags.Recorded) ? "01" : "00")}";

    /// <summary>The caller's context when it sent a valid <c>traceparent</c>, else a new sampled trace.</summary>
    public static TraceContext FromRequest(HttpRequest request)
    {
        var state = request.Headers["tracestate"].ToString();
        return TryParse(request.Headers["traceparent"].ToString(), string.IsNullOrEmpty(state) ? null : state, out var parent)
            ? parent
            : new TraceContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, null);
    }

    public static bool TryParse(string? traceParent, string? traceState, out TraceContext context)
    {
        context = default;
        if (string.IsNullOrEmpty(traceParent) || !ActivityContext.TryParse(traceParent, traceState, out var parsed))
        {
            return false;
        }
        context = new TraceContext(parsed.TraceId, parsed.SpanId, parsed.TraceFlags, parsed.TraceState);
        return true;
    }

    /// <summary>A child span in the same trace, for the next hop.</summary>
    public TraceContext NewChild() => this with { SpanId = ActivitySpanId.CreateRandom() };
}
