using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentVerse.Tools.BuiltIns;

/// <summary>Arithmetic on an expression, evaluated by <see cref="ExpressionEvaluator"/>: a parser, never code execution.</summary>
public sealed class CalculatorTool : IBuiltInTool
{
    public string Name => "calculator";

    public string Description => "Evaluates an arithmetic expression: + - * / % ^, parentheses, unary minus, sqrt, abs, round, floor, ceil, min, max, pow, log, ln, exp, sin, cos, tan, pi, e.";

    public JsonElement InputSchema { get; } = Schemas.Parse($$"""
        {"type":"object","required":["expression"],"additionalProperties":false,
         "properties":{"expression":{"type":"string","minLength":1,"maxLength":{{ExpressionEvaluator.MaxLength}},"description":"The expression, e.g. 2 * (3 + 4) ^ 2","example":"sqrt(16) + 2^3"} } }
        """);

    public JsonElement OutputSchema { get; } = Schemas.Parse("""
        {"type":"object","description":"The expression and its value","properties":{"expression":{"type":"string"},"value":{"type":"number"}},"example":{"expression":"1+2","value":3}}
        """);

    public IReadOnlyList<string> Capabilities { get; } = ["math"];

    public ValueTask<JsonNode?> ExecuteAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var expression = parameters.RequiredString("expression");
        var value = ExpressionEvaluator.Evaluate(expression);
        return ValueTask.FromResult<JsonNode?>(new JsonObject { ["expression"] = expression, ["value"] = value });
    }
}

/// <summary>
/// A recursive-descent evaluator of arithmetic expressions. Grammar (lowest precedence first):
/// <c>sum := product (('+'|'-') product)*</c>, <c>product := unary (('*'|'/'|'%') unary)*</c>,
/// <c>unary := ('-'|'+') unary | power</c>, <c>power := primary ('^' unary)?</c> (right-associative, so
/// <c>-2^2 = -4</c> and <c>2^-1 = 0.5</c>), <c>primary := number | constant | function '(' args ')' | '(' sum ')'</c>.
/// Input length and nesting depth are bounded.
/// </summary>
public static class ExpressionEvaluator
{
    public const int MaxLength = 1_000;
    public const int MaxDepth = 64;

    public static double Evaluate(string expression)
    {
        ArgumentNullException.ThrowIfNull(expression);
        if (expression.Length > MaxLength)
        {
            throw new ToolExecutionException($"The expression is longer than {MaxLength} characters.");
        }

        var parser = new Parser(expression);
        var value = parser.ParseSum(0);
        parser.SkipSpaces();
        if (!parser.AtEnd)
        {
            throw parser.Error("Unexpected character");
        }

        return double.IsFinite(value) ? value : throw new ToolExecutionException("The result is not a finite number (division by zero or overflow).");
    }

    private ref struct Parser(string text)
    {
        private readonly string _text = text;
        private int _position;

        public readonly bool AtEnd => _position >= _text.Length;

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(_text[_position]))
            {
                _position++;
            }
        }

        public readonly ToolExecutionException Error(string message) =>
            new(string.Create(CultureInfo.InvariantCulture, $"{message} at position {_position + 1}."));

        public double ParseSum(int depth)
        {
            var value = ParseProduct(depth);
            while (true)
            {
                if (Accept('+'))
                {
                    value += ParseProduct(depth);
                }
                else if (Accept('-'))
                {
                    value -= ParseProduct(depth);
                }
                else
                {
                    return value;
                }
            }
        }

        private double ParseProduct(int depth)
        {
            var value = ParseUnary(depth);
            while (true)
            {
                if (Accept('*'))
                {
                    value *= ParseUnary(depth);
                }
                else if (Accept('/'))
                {
                    var divisor = ParseUnary(depth);
                    value = divisor == 0 ? throw new ToolExecutionException("Division by zero.") : value / divisor;
                }
                else if (Accept('%'))
                {
                    var divisor = ParseUnary(depth);
                    value = divisor == 0 ? throw new ToolExecutionException("Division by zero.") : value % divisor;
                }
                else
                {
                    return value;
                }
            }
        }

        private double ParseUnary(int depth)
        {
            Enter(depth);
            if (Accept('-'))
            {
                return -ParseUnary(depth + 1);
            }

            if (Accept('+'))
            {
                return ParseUnary(depth + 1);
            }

            var value = ParsePrimary(depth);
            return Accept('^') ? Math.Pow(value, ParseUnary(depth + 1)) : value;
        }

        private double ParsePrimary(int depth)
        {
            SkipSpaces();
            if (AtEnd)
            {
                throw Error("Unexpected end of expression");
            }

            var c = _text[_position];
            if (Accept('('))
            {
                var value = ParseSum(depth + 1);
                Expect(')');
                return value;
            }

            if (char.IsAsciiDigit(c) || c == '.')
            {
                return ParseNumber();
            }

            if (char.IsAsciiLetter(c))
            {
                var start = _position;
                while (!AtEnd && char.IsAsciiLetterOrDigit(_text[_position]))
                {
                    _position++;
                }

                var name = _text[start.._position].ToLowerInvariant();
                SkipSpaces();
                if (!AtEnd && _text[_position] == '(')
                {
                    _position++;
                    return CallFunction(name, start, depth);
                }

                return name switch
                {
                    "pi" => Math.PI,
                    "e" => Math.E,
                    _ => throw new ToolExecutionException(string.Create(CultureInfo.InvariantCulture, $"Unknown name '{name}' at position {start + 1}.")),
                };
            }

            throw Error($"Unexpected character '{c}'");
        }

        private double CallFunction(string name, int start, int depth)
        {
            Span<double> arguments = stackalloc double[2];
            var count = 0;
            SkipSpaces();
            if (!Accept(')'))
            {
                do
                {
                    var value = ParseSum(depth + 1);
                    if (count == arguments.Length)
                    {
                        throw new ToolExecutionException($"Too many arguments for {name}.");
                    }

                    arguments[count++] = value;
                }
                while (Accept(','));
                Expect(')');
            }

            var (min, max) = name switch
            {
                "min" or "max" or "pow" => (2, 2),
                "round" or "log" => (1, 2),
                "sqrt" or "abs" or "floor" or "ceil" or "ln" or "exp" or "sin" or "cos" or "tan" => (1, 1),
                _ => throw new ToolExecutionException(string.Create(CultureInfo.InvariantCulture, $"Unknown function '{name}' at position {start + 1}.")),
            };
            if (count < min || count > max)
            {
                throw new ToolExecutionException(min == max ? $"{name} takes {min} argument(s)." : $"{name} takes {min} to {max} arguments.");
            }

            var x = arguments[0];
            return name switch
            {
                "sqrt" => x < 0 ? throw new ToolExecutionException("sqrt of a negative number.") : Math.Sqrt(x),
                "abs" => Math.Abs(x),
                "round" => Math.Round(x, count == 2 ? Digits(arguments[1]) : 0, MidpointRounding.AwayFromZero),
                "floor" => Math.Floor(x),
                "ceil" => Math.Ceiling(x),
                "min" => Math.Min(x, arguments[1]),
                "max" => Math.Max(x, arguments[1]),
                "pow" => Math.Pow(x, arguments[1]),
                // log(x) is base 10, log(x, b) base b; ln is natural.
                "log" => x <= 0 ? throw new ToolExecutionException("log of a non-positive number.") : count == 2 ? Math.Log(x, arguments[1]) : Math.Log10(x),
                "ln" => x <= 0 ? throw new ToolExecutionException("ln of a non-positive number.") : Math.Log(x),
                "exp" => Math.Exp(x),
                "sin" => Math.Sin(x),
                "cos" => Math.Cos(x),
                _ => Math.Tan(x),
            };
        }

        private static int Digits(double value) =>
            value is >= 0 and <= 15 && Math.Floor(value) == value ? (int)value : throw new ToolExecutionException("round's digits must be an integer from 0 to 15.");

        private double ParseNumber()
        {
            var start = _position;
            while (!AtEnd && (char.IsAsciiDigit(_text[_position]) || _text[_position] == '.'))
            {
                _position++;
            }

            if (!AtEnd && _text[_position] is 'e' or 'E' && _position + 1 < _text.Length
                && (char.IsAsciiDigit(_text[_position + 1]) || (_text[_position + 1] is '+' or '-' && _position + 2 < _text.Length && char.IsAsciiDigit(_text[_position + 2]))))
            {
                _position += 2;
                while (!AtEnd && char.IsAsciiDigit(_text[_position]))
                {
                    _position++;
                }
            }

            return double.TryParse(_text.AsSpan(start, _position - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new ToolExecutionException(string.Create(CultureInfo.InvariantCulture, $"Invalid number at position {start + 1}."));
        }

        private static void Enter(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new ToolExecutionException($"The expression is nested deeper than {MaxDepth} levels.");
            }
        }

        private bool Accept(char c)
        {
            SkipSpaces();
            if (!AtEnd && _text[_position] == c)
            {
                _position++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (!Accept(c))
            {
                throw Error($"Expected '{c}'");
            }
        }
    }
}
