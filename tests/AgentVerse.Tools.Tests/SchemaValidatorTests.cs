using System.Text.Json;
using AgentVerse.Tools.Schema;

namespace AgentVerse.Tools.Tests;

public sealed class SchemaValidatorTests
{
    private static IReadOnlyList<SchemaError> Validate(string schema, string instance) =>
        JsonSchemaValidator.Validate(JsonDocument.Parse(schema).RootElement, JsonDocument.Parse(instance).RootElement, "$.parameters");

    private static void AssertSingle(IReadOnlyList<SchemaError> errors, string path, string keyword)
    {
        var error = Assert.Single(errors);
        Assert.Equal(path, error.Path);
        Assert.Equal(keyword, error.Keyword);
    }

    [Theory]
    [InlineData("string", "\"a\"", true)]
    [InlineData("string", "1", false)]
    [InlineData("number", "1.5", true)]
    [InlineData("integer", "2", true)]
    [InlineData("integer", "2.0", true)]
    [InlineData("integer", "2.5", false)]
    [InlineData("boolean", "true", true)]
    [InlineData("boolean", "\"true\"", false)]
    [InlineData("null", "null", true)]
    [InlineData("object", "[]", false)]
    [InlineData("array", "[]", true)]
    public void Type_accepts_matching_values_only(string type, string instance, bool valid)
    {
        var errors = Validate($$"""{"properties":{"x":{"type":"{{type}}"} } }""", $$"""{"x":{{instance}}}""");
        if (valid)
        {
            Assert.Empty(errors);
        }
        else
        {
            AssertSingle(errors, "$.parameters.x", "type");
        }
    }

    [Fact]
    public void Type_may_be_an_array_of_types()
    {
        const string schema = """{"properties":{"x":{"type":["string","null"]}}}""";
        Assert.Empty(Validate(schema, """{"x":null}"""));
        Assert.Empty(Validate(schema, """{"x":"a"}"""));
        AssertSingle(Validate(schema, """{"x":1}"""), "$.parameters.x", "type");
    }

    [Fact]
    public void Required_names_the_missing_property_path()
    {
        AssertSingle(Validate("""{"type":"object","required":["expression"]}""", "{}"), "$.parameters.expression", "required");
    }

    [Fact]
    public void Properties_validate_nested_values_with_their_path()
    {
        const string schema = """{"properties":{"a":{"properties":{"b":{"type":"array","items":{"type":"integer"}}}}}}""";
        AssertSingle(Validate(schema, """{"a":{"b":[1,"x"]}}"""), "$.parameters.a.b[1]", "type");
    }

    [Fact]
    public void AdditionalProperties_false_refuses_unknown_properties()
    {
        AssertSingle(Validate("""{"properties":{"a":{}},"additionalProperties":false}""", """{"a":1,"b":2}"""), "$.parameters.b", "additionalProperties");
    }

    [Fact]
    public void AdditionalProperties_schema_validates_unknown_properties()
    {
        const string schema = """{"properties":{"a":{}},"additionalProperties":{"type":"string"}}""";
        Assert.Empty(Validate(schema, """{"a":1,"b":"x"}"""));
        AssertSingle(Validate(schema, """{"a":1,"b":2}"""), "$.parameters.b", "type");
    }

    [Fact]
    public void Property_names_that_are_not_identifiers_are_quoted_in_the_path()
    {
        AssertSingle(Validate("""{"required":["a b"]}""", "{}"), "$.parameters['a b']", "required");
    }

    [Fact]
    public void Enum_refuses_values_outside_the_list()
    {
        const string schema = """{"properties":{"op":{"enum":["add","sub",1]}}}""";
        Assert.Empty(Validate(schema, """{"op":1}"""));
        AssertSingle(Validate(schema, """{"op":"mul"}"""), "$.parameters.op", "enum");
    }

    [Fact]
    public void Const_requires_the_exact_value()
    {
        const string schema = """{"properties":{"v":{"const":{"a":[1,2]}}}}""";
        Assert.Empty(Validate(schema, """{"v":{"a":[1,2]}}"""));
        AssertSingle(Validate(schema, """{"v":{"a":[2,1]}}"""), "$.parameters.v", "const");
    }

    [Theory]
    [InlineData("minimum", 5, 4.9, 5)]
    [InlineData("maximum", 5, 5.1, 5)]
    [InlineData("exclusiveMinimum", 5, 5, 5.1)]
    [InlineData("exclusiveMaximum", 5, 5, 4.9)]
    public void Numeric_bounds_are_enforced(string keyword, double bound, double invalid, double valid)
    {
        var schema = $$"""{"properties":{"n":{"type":"number","{{keyword}}":{{bound}} } } }""";
        Assert.Empty(Validate(schema, $$"""{"n":{{valid}}}"""));
        AssertSingle(Validate(schema, $$"""{"n":{{invalid}}}"""), "$.parameters.n", keyword);
    }

    [Fact]
    public void MinLength_and_maxLength_count_characters()
    {
        const string schema = """{"properties":{"s":{"type":"string","minLength":2,"maxLength":3}}}""";
        Assert.Empty(Validate(schema, """{"s":"😀😀"}"""));
        AssertSingle(Validate(schema, """{"s":"a"}"""), "$.parameters.s", "minLength");
        AssertSingle(Validate(schema, """{"s":"abcd"}"""), "$.parameters.s", "maxLength");
    }

    [Fact]
    public void Pattern_must_match()
    {
        const string schema = """{"properties":{"s":{"type":"string","pattern":"^[a-z]+$"}}}""";
        Assert.Empty(Validate(schema, """{"s":"abc"}"""));
        AssertSingle(Validate(schema, """{"s":"ab1"}"""), "$.parameters.s", "pattern");
    }

    [Fact]
    public void A_catastrophic_pattern_times_out_as_an_error_instead_of_hanging()
    {
        var schema = """{"properties":{"s":{"type":"string","pattern":"^(a+)+$"}}}""";
        var started = DateTime.UtcNow;
        var errors = Validate(schema, $$"""{"s":"{{new string('a', 40)}}!"}""");
        AssertSingle(errors, "$.parameters.s", "pattern");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Items_minItems_and_maxItems_are_enforced()
    {
        const string schema = """{"properties":{"a":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":2}}}""";
        Assert.Empty(Validate(schema, """{"a":["x"]}"""));
        AssertSingle(Validate(schema, """{"a":[]}"""), "$.parameters.a", "minItems");
        AssertSingle(Validate(schema, """{"a":["x","y","z"]}"""), "$.parameters.a", "maxItems");
        AssertSingle(Validate(schema, """{"a":["x",2]}"""), "$.parameters.a[1]", "type");
    }

    [Fact]
    public void Several_failures_are_all_reported()
    {
        var errors = Validate("""{"required":["a","b"],"properties":{"c":{"type":"string"}}}""", """{"c":1}""");
        Assert.Equal(["$.parameters.a", "$.parameters.b", "$.parameters.c"], errors.Select(e => e.Path).Order());
    }
}
