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
    public void Items_minItems_and_maxItems_are_enforced()
    {
        const string schema = """{"properties":{"a":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":2}}}""";
        Assert.Empty(Validate(schema, """{"a":["x"]}"""));
        AssertSingle(Validate(schema, """{"a":[]}"""), "$.parameters.a", "minItems");
        AssertSingle(Validate(schema, """{"a":["x","y","z"]}"""), "$.parameters.a", "maxItems");
        AssertSingle(Validate(schema, """{"a":["x",2]}"""), "$.parameters.a[1]", "type");
    }

    [Fact]
    public void References_into_the_schemas_own_definitions_are_followed()
    {
        const string schema = """{"$defs":{"point":{"type":"object","required":["x"],"properties":{"x":{"type":"number"}}}},"properties":{"at":{"$ref":"#/$defs/point"}}}""";
        Assert.Empty(Validate(schema, """{"at":{"x":1}}"""));
        AssertSingle(Validate(schema, """{"at":{}}"""), "$.parameters.at.x", "required");
        AssertSingle(Validate(schema, """{"at":{"x":"one"}}"""), "$.parameters.at.x", "type");
    }

    [Fact]
    public void AnyOf_oneOf_allOf_and_not_are_applied()
    {
        Assert.Empty(Validate("""{"properties":{"v":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}""", """{"v":3}"""));
        Assert.NotEmpty(Validate("""{"properties":{"v":{"anyOf":[{"type":"string"},{"type":"integer"}]}}}""", """{"v":true}"""));
        Assert.NotEmpty(Validate("""{"properties":{"v":{"oneOf":[{"type":"string"},{"minLength":1}]}}}""", """{"v":"both"}"""));
        Assert.NotEmpty(Validate("""{"properties":{"v":{"allOf":[{"minimum":1},{"maximum":5}]}}}""", """{"v":9}"""));
        Assert.NotEmpty(Validate("""{"properties":{"v":{"not":{"type":"null"}}}}""", """{"v":null}"""));
    }

    [Theory]
    [InlineData("""{"properties":{"q":{"$ref":"http://169.254.169.254/latest/meta-data"}}}""", "outside itself")]
    [InlineData("""{"properties":{"q":{"$ref":"#/$defs/missing"}}}""", "points at nothing")]
    public void A_schema_whose_reference_leaves_it_or_points_at_nothing_is_refused(string schema, string because)
    {
        Assert.Contains(because, JsonSchemaValidator.Problem(JsonDocument.Parse(schema).RootElement), StringComparison.Ordinal);
    }

    [Fact]
    public void An_id_in_one_schema_does_not_shadow_another()
    {
        const string first = """{"$id":"https://example.com/shared","type":"string"}""";
        const string second = """{"$id":"https://example.com/shared","type":"integer"}""";
        Assert.Empty(Validate(first, "\"a\""));
        Assert.Empty(Validate(second, "1"));
        Assert.NotEmpty(Validate(first, "1"));
    }

    [Fact]
    public void Several_failures_are_all_reported()
    {
        var errors = Validate("""{"required":["a","b"],"properties":{"c":{"type":"string"}}}""", """{"c":1}""");
        Assert.Equal(["$.parameters.a", "$.parameters.b", "$.parameters.c"], errors.Select(e => e.Path).Order());
    }
}
