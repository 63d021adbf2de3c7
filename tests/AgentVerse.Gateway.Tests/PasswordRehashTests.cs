using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentVerse.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace AgentVerse.Gateway.Tests;

[Collection(GatewayTestGroup.Name)]
public sealed class PasswordRehashTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Login_upgrades_a_hash_in_an_older_format_and_still_accepts_the_password()
    {
        var user = await fixture.NewUserAsync();
        using var dapr = fixture.Stack.Runtime["gateway"].CreateDaprClient();
        var stored = (await dapr.GetStateAsync<JsonObject>("statestore", $"user:{user.UserId}"))!;
        var legacy = new PasswordHasher<object>(Options.Create(new PasswordHasherOptions { CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV2 }));
        stored["passwordHash"] = legacy.HashPassword(new object(), GatewayFixture.Password);
        await dapr.SaveStateAsync("statestore", $"user:{user.UserId}", stored);

        using var login = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GatewayFixture.Password });

        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var upgraded = (await dapr.GetStateAsync<JsonObject>("statestore", $"user:{user.UserId}"))!["passwordHash"]!.GetValue<string>();
        Assert.Equal(0x01, Convert.FromBase64String(upgraded)[0]);
    }
}
