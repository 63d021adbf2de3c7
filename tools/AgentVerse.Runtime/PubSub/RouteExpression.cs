using System.Globalization;
using System.Text.Json;

namespace AgentVerse.Runtime.PubSub;

/// <summary>
/// The subset of CEL that Dapr routing rules use in practice: <c>event.a.b</c> field paths, string, number,
/// bool and null literals, <c>== != &lt; &lt;= &gt; &gt;=</c>, <c>&amp;&amp; || !</c> and parentheses.
/// A rule that reads a missing field does not match (CEL would raise "no such key").
/// </summary>
public sealed class RouteExpression
{
    private readonly Node _root;

    private RouteExpression(Node root) => _root = root;

    /// <exception cref="FormatException">the expression is outside the supported subset</exception>
    public static RouteExpression Parse(string expression)
    {
        var parser = new Parser(expression);
        var root = parser.ParseOr();
        parser.ExpectEnd();
        return new RouteExpression(root);
    }

    /// <summary>Evaluates against a CloudEvent (the <c>event</c> variable).</summary>
    public bool Matches(JsonElement cloudEvent) => _root.Evaluate(cloudEvent) is Value { Kind: ValueKind.Bool, Bool: true };

    private enum ValueKind { Missing, Null, Bool, Number, String, Other }

    private readonly record struct Value(ValueKind Kind, bool Bool = false, double Number = 0, string? String = null)
    {
        public static readonly Value Missing = new(ValueKind.Missing);

        public static Value From(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.String => new(ValueKind.String, String: element.GetString()),
            JsonValueKind.Number => new(ValueKind.Number, Number: element.GetDouble()),
            JsonValueKind.True => new(ValueKind.Bool, Bool: true),
            JsonValueKind.False => new(ValueKind.Bool, Bool: false),
            JsonValueKind.Null => new(ValueKind.Null),
            _ => new(ValueKind.Other),
        };
    }

    private abstract record Node
    {
        public abstract Value Evaluate(JsonElement cloudEvent);
    }

    private sealed record Literal(Value Value) : Node
    {
        public override Value Evaluate(JsonElement cloudEvent) => Value;
    }

    private sealed record FieldPath(string[] Segments) : Node
    {
        public override Value Evaluate(JsonElement cloudEvent)
        {
            var current = cloudEvent;
            foreach (var segment in Segments)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment, out current))
                {
                    return Value.Missing;
                }
            }
            return Value.From(current);
        }
    }

    private sealed record Not(Node Operand) : Node
    {
        public override Value Evaluate(JsonElement cloudEvent) =>
            Operand.Evaluate(cloudEvent) is { Kind: ValueKind.Bool } v ? new(ValueKind.Bool, Bool: !v.Bool) : Value.Missing;
    }

    private sealed record Logical(Node Left, Node Right, bool IsAnd) : Node
    {
        public override Value Evaluate(JsonElement cloudEvent)
        {
            var left = Left.Evaluate(cloudEvent);
            if (left.Kind == ValueKind.Bool && left.Bool != IsAnd)
            {
                return left; // short-circuit: false && x, true || x
            }
            var right = Right.Evaluate(cloudEvent);
            return left.Kind == ValueKind.Bool && right.Kind == ValueKind.Bool ? right : Value.Missing;
        }
    }

    private sealed record Comparison(Node Left, Node Right, string Operator) : Node
    {
        public override Value Evaluate(JsonElement cloudEvent)
        {
            var left = Left.Evaluate(cloudEvent);
            var right = Right.Evaluate(cloudEvent);
            if (left.Kind == ValueKind.Missing || right.Kind == ValueKind.Missing)
            {
                return Value.Missing;
            }
            bool result;
            if (Operator is "==" or "!=")
            {
                var equal = left.Kind == right.Kind && left.Kind switch
                {
                    ValueKind.String => string.Equals(left.String, right.String, StringComparison.Ordinal),
                    ValueKind.Number => left.Number.Equals(right.Number),
                    ValueKind.Bool => left.Bool == right.Bool,
                    ValueKind.Null => true,
                    _ => false,
                };
                result = Operator == "==" ? equal : !equal;
            }
            else
            {
                int order;
                if (left.Kind == ValueKind.Number && right.Kind == ValueKind.Number)
                {
                    order = left.Number.CompareTo(right.Number);
                }
                else if (left.Kind == ValueKind.String && right.Kind == ValueKind.String)
                {
                    order = string.CompareOrdinal(left.String, right.String);
                }
                else
                {
                    return Value.Missing;
                }
                result = Operator switch { "<" => order < 0, "<=" => order <= 0, ">" => order > 0, _ => order >= 0 };
            }
            return new(ValueKind.Bool, Bool: result);
        }
    }

    private sealed class Parser(string text)
    {
        private int _position;

        public Node ParseOr()
        {
            var left = ParseAnd();
            while (TryConsume("||"))
            {
                left = new Logical(left, ParseAnd(), IsAnd: false);
            }
            return left;
        }

        private Node ParseAnd()
        {
            var left = ParseUnary();
            while (TryConsume("&&"))
            {
                left = new Logical(left, ParseUnary(), IsAnd: true);
            }
            return left;
        }

        private Node ParseUnary() => TryConsume("!") && !Peek("=") ? new Not(ParseUnary()) : ParseComparison();

        private Node ParseComparison()
        {
            var left = ParsePrimary();
            foreach (var op in new[] { "==", "!=", "<=", ">=", "<", ">" })
            {
                if (TryConsume(op))
                {
                    return new Comparison(left, ParsePrimary(), op);
                }
            }
            return left;
        }

        private Node ParsePrimary()
        {
            SkipSpace();
            if (_position >= text.Length)
            {
                throw Error("unexpected end of expression");
            }
            var c = text[_position];
            if (TryConsume("("))
            {
                var inner = ParseOr();
                if (!TryConsume(")"))
                {
                    throw Error("expected ')'");
                }
                return inner;
            }
            if (c is '"' or '\'')
            {
                var end = text.IndexOf(c, _position + 1);
                if (end < 0)
                {
                    throw Error("unterminated string");
                }
                var literal = text[(_position + 1)..end];
                _position = end + 1;
                return new Literal(new Value(ValueKind.String, String: literal));
            }
            if (char.IsDigit(c) || c == '-')
            {
                var start = _position++;
                while (_position < text.Length && (char.IsDigit(text[_position]) || text[_position] == '.'))
                {
                    _position++;
                }
                return double.TryParse(text[start.._position], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                    ? new Literal(new Value(ValueKind.Number, Number: number))
                    : throw Error("bad number");
            }
            var identifier = ReadIdentifier();
            switch (identifier)
            {
                case "true": return new Literal(new Value(ValueKind.Bool, Bool: true));
                case "false": return new Literal(new Value(ValueKind.Bool, Bool: false));
                case "null": return new Literal(new Value(ValueKind.Null));
                case "event":
                    var segments = new List<string>();
                    while (TryConsume("."))
                    {
                        segments.Add(ReadIdentifier());
                    }
                    return new FieldPath([.. segments]);
                default:
                    throw Error($"unsupported identifier '{identifier}' (only 'event' fields are supported)");
            }
        }

        private string ReadIdentifier()
        {
            SkipSpace();
            var start = _position;
            while (_position < text.Length && (char.IsLetterOrDigit(text[_position]) || text[_position] == '_'))
            {
                _position++;
            }
            return _position > start ? text[start.._position] : throw Error("expected an identifier");
        }

        private bool Peek(string token) => string.CompareOrdinal(text, _position, token, 0, token.Length) == 0;

        private bool TryConsume(string token)
        {
            SkipSpace();
            if (!Peek(token))
            {
                return false;
            }
            _position += token.Length;
            return true;
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_position != text.Length)
            {
                throw Error($"unexpected '{text[_position..]}'");
            }
        }

        private FormatException Error(string message) => new($"routing rule '{text}': {message} at position {_position}");
    }
}
