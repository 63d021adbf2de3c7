using System.ComponentModel.DataAnnotations;

namespace AgentVerse.CrashApp;

/// <summary>Settings from the <c>CrashApp</c> section (environment: <c>CrashApp__AttemptLog</c>, ...).</summary>
public sealed class CrashAppOptions
{
    public const string Section = "CrashApp";

    /// <summary>The state store the effects are recorded in.</summary>
    [Required]
    public string StoreName { get; set; } = "statestore";

    /// <summary>A file every activity execution appends a line to, so tests can count executions.</summary>
    [Required]
    public string AttemptLog { get; set; } = "";

    /// <summary>How long each step takes after recording its effect: the window a kill lands in.</summary>
    public TimeSpan StepDelay { get; set; } = TimeSpan.FromMilliseconds(300);
}
