using System.Text.Json;
using AgentVerse.Tools.BuiltIns;
using AgentVerse.Tools.Registry;

namespace AgentVerse.Tools.Execution;

/// <summary>A tool a caller may run: a built-in or a registered custom HTTP tool.</summary>
public sealed record ResolvedTool(
    string Id,
    string Name,
    string Description,
    string Type,
    JsonElement InputSchema,
    JsonElement? OutputSchema,
    string Version,
    IReadOnlyList<string> Capabilities,
    IBuiltInTool? BuiltIn,
    ToolDefinition? Custom)
{
    public const string BuiltInVersion = "1.0.0";

    public static ResolvedTool From(IBuiltInTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new(tool.Name, tool.Name, tool.Description, "standard", tool.InputSchema, tool.OutputSchema, BuiltInVersion, tool.Capabilities, tool, null);
    }

    public static ResolvedTool From(ToolDefinition tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        return new(tool.Id, tool.Name, tool.Description, tool.Type, tool.InputSchema, tool.OutputSchema,
            tool.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), ["http"], null, tool);
    }
}

/// <summary>The built-in tools by id.</summary>
public sealed class BuiltInCatalog(IEnumerable<IBuiltInTool> tools)
{
    private readonly Dictionary<string, ResolvedTool> _tools = tools.ToDictionary(t => t.Name, ResolvedTool.From, StringComparer.Ordinal);

    public IEnumerable<ResolvedTool> All => _tools.Values.OrderBy(t => t.Id, StringComparer.Ordinal);

    public ResolvedTool? Find(string id) => _tools.GetValueOrDefault(id);
}
