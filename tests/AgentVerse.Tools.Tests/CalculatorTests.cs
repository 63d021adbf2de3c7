using System.Text.Json;
using AgentVerse.Tools.BuiltIns;

namespace AgentVerse.Tools.Tests;

public sealed class CalculatorTests
{
    [Theory]
    [InlineData("1 + 2 * 3", 7)]
    [InlineData("(1 + 2) * 3", 9)]
    [InlineData("10 / 4", 2.5)]
    [InlineData("10 % 4", 2)]
    [InlineData("2 ^ 3 ^ 2", 512)]
    [InlineData("-2 ^ 2", -4)]
    [InlineData("2 ^ -1", 0.5)]
    [InlineData("--3", 3)]
    [InlineData("-(2 + 3) * 2", -10)]
    [InlineData("sqrt(16) + abs(-3)", 7)]
    [InlineData("round(2.5) + floor(2.7) + ceil(2.1)", 8)]
    [InlineData("round(3.14159, 2)", 3.14)]
    [InlineData("min(3, 4) + max(3, 4)", 7)]
    [InlineData("pow(2, 10)", 1024)]
    [InlineData("log(1000)", 3)]
    [InlineData("log(8, 2)", 3)]
    [InlineData("ln(e)", 1)]
    [InlineData("exp(0)", 1)]
    [InlineData("sin(0) + cos(0) + tan(0)", 1)]
    [InlineData("2 * pi", 6.283185307179586)]
    [InlineData("1.5e3 + .5", 1500.5)]
    [InlineData("  7  ", 7)]
    public void Evaluates_arithmetic(string expression, double expected)
    {
        Assert.Equal(expected, ExpressionEvaluator.Evaluate(expression), 9);
    }

    [Theory]
    [InlineData("1 / 0", "Division by zero")]
    [InlineData("1 % 0", "Division by zero")]
    [InlineData("1 +", "Unexpected end")]
    [InlineData("(1 + 2", "Expected ')'")]
    [InlineData("1 2", "Unexpected character")]
    [InlineData("foo(1)", "Unknown function")]
    [InlineData("x + 1", "Unknown name")]
    [InlineData("sqrt(-1)", "negative")]
    [InlineData("min(1)", "takes 2")]
    [InlineData("10 ^ 400", "not a finite")]
    [InlineData("System.IO.File.Delete(\"x\")", "Unknown")]
    [InlineData("1; 2", "Unexpected character")]
    public void Refuses_invalid_expressions_with_a_message(string expression, string message)
    {
        var error = Assert.Throws<ToolExecutionException>(() => ExpressionEvaluator.Evaluate(expression));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_is_bounded()
    {
        var deep = new string('(', 100) + "1" + new string(')', 100);
        Assert.Contains("nested deeper", Assert.Throws<ToolExecutionException>(() => ExpressionEvaluator.Evaluate(deep)).Message, StringComparison.Ordinal);
        Assert.Contains("nested deeper", Assert.Throws<ToolExecutionException>(() => ExpressionEvaluator.Evaluate(new string('-', 200) + "1")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Length_is_bounded()
    {
        var longExpression = string.Join('+', Enumerable.Repeat("1", 600));
        Assert.Contains("longer than", Assert.Throws<ToolExecutionException>(() => ExpressionEvaluator.Evaluate(longExpression)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_tool_returns_the_expression_and_its_value()
    {
        var result = await new CalculatorTool().ExecuteAsync(JsonDocument.Parse("""{"expression":"2*(3+4)"}""").RootElement, default);
        Assert.Equal(14, result!["value"]!.GetValue<double>());
    }
}
