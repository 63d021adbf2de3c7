using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace AgentVerse.Gateway.Tests;

[Collection(GatewayTestGroup.Name)]
public sealed class AccountTests(GatewayFixture fixture)
{
    [Fact]
    public async Task The_first_account_becomes_admin_and_later_ones_users()
    {
        Assert.Equal("admin", fixture.FirstAccountRole);
        var later = await fixture.NewUserAsync();
        Assert.Equal("user", later.Role);
    }

    [Fact]
    public async Task Register_answers_201_with_the_user_and_never_the_password_hash()
    {
        var email = $"New-{Guid.NewGuid():N}@Example.com";
        using var response = await fixture.RegisterAsync(email);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var user = JsonDocument.Parse(body).RootElement;
        Assert.Equal(email, user.GetProperty("email").GetString());
        Assert.Equal("Ada", user.GetProperty("firstName").GetString());
        Assert.DoesNotContain("password", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal($"/api/v1/users/{user.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
    }

    [Theory]
    [InlineData("short-pw1")]
    [InlineData("password1234")]
    [InlineData("aaaaaaaaaaaaaaaa")]
    public async Task Register_refuses_a_weak_password_with_a_validation_problem_naming_the_field(string password)
    {
        using var response = await fixture.RegisterAsync($"weak-{Guid.NewGuid():N}@example.com", password);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task Register_refuses_an_email_already_taken_in_another_case()
    {
        var email = $"dup-{Guid.NewGuid():N}@example.com";
        using var first = await fixture.RegisterAsync(email);
        using var second = await fixture.RegisterAsync(email.ToUpperInvariant());

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("application/problem+json", second.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Usernames_are_unique_and_a_default_one_never_blocks_a_registration()
    {
        var name = $"ada{Guid.NewGuid():N}";
        using var first = await fixture.Gateway.PostAsJsonAsync("/api/auth/register", new { email = $"{name}@one.example", password = GatewayFixture.Password });
        using var sameDefault = await fixture.Gateway.PostAsJsonAsync("/api/auth/register", new { email = $"{name}@two.example", password = GatewayFixture.Password });
        using var sameChosen = await fixture.Gateway.PostAsJsonAsync("/api/auth/register", new { email = $"x-{name}@three.example", username = name.ToUpperInvariant(), password = GatewayFixture.Password });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(name, (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("username").GetString());
        Assert.Equal(HttpStatusCode.Created, sameDefault.StatusCode);
        Assert.StartsWith($"{name}-", (await sameDefault.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("username").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, sameChosen.StatusCode);
        Assert.Contains("username", (await sameChosen.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_registrations_of_one_email_have_exactly_one_winner()
    {
        var email = $"race-{Guid.NewGuid():N}@example.com";
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => fixture.RegisterAsync(email)));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
    }

    [Fact]
    public async Task Login_returns_a_token_pair_and_the_user_and_me_answers_with_it()
    {
        var session = await fixture.NewUserAsync();
        Assert.True(session.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(10) && session.ExpiresAt <= DateTimeOffset.UtcNow.AddMinutes(16));
        Assert.NotEmpty(session.RefreshToken);

        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", session.Token);

        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var user = await me.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(session.UserId, user.GetProperty("id").GetString());
        Assert.Equal(session.Email, user.GetProperty("email").GetString());
    }

    [Fact]
    public async Task Login_answers_the_same_401_for_an_unknown_email_and_a_wrong_password()
    {
        var session = await fixture.NewUserAsync();
        using var wrongPassword = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = session.Email, password = "not-the-password-1" });
        using var unknownEmail = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = $"nobody-{Guid.NewGuid():N}@example.com", password = "not-the-password-1" });

        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownEmail.StatusCode);
        var a = await wrongPassword.Content.ReadFromJsonAsync<JsonElement>();
        var b = await unknownEmail.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(a.GetProperty("detail").GetString(), b.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Five_failed_logins_lock_the_account_with_429_and_Retry_After_even_for_the_right_password()
    {
        var session = await fixture.NewUserAsync();
        for (var i = 0; i < 4; i++)
        {
            using var failed = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = session.Email, password = "wrong-password-123" });
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var fifth = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = session.Email, password = "wrong-password-123" });
        using var right = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = session.Email, password = GatewayFixture.Password });

        Assert.Equal(HttpStatusCode.TooManyRequests, fifth.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.InRange(right.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 800, 900);
        Assert.Equal("application/problem+json", right.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Refresh_rotates_the_pair_and_the_new_access_token_works()
    {
        var session = await fixture.NewUserAsync();

        using var refreshed = await fixture.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var next = Session.From(session.Email, await refreshed.Content.ReadFromJsonAsync<JsonElement>());
        Assert.NotEqual(session.RefreshToken, next.RefreshToken);
        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", next.Token);
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task Reusing_a_spent_refresh_token_revokes_the_whole_family()
    {
        var session = await fixture.NewUserAsync();
        using var first = await fixture.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken });
        var next = Session.From(session.Email, await first.Content.ReadFromJsonAsync<JsonElement>());

        using var reuse = await fixture.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken });
        using var successor = await fixture.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = next.RefreshToken });
        using var access = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", next.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, reuse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, successor.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, access.StatusCode);
    }

    [Fact]
    public async Task Logout_revokes_the_access_token_at_once_at_the_gateway_and_soon_at_other_services()
    {
        var session = await fixture.NewUserAsync();
        using (var before = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", session.Token, client: fixture.Agents))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        using var logout = await fixture.SendAsync(HttpMethod.Post, "/api/auth/logout", session.Token);
        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", session.Token);
        using var refresh = await fixture.Gateway.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = session.RefreshToken });

        Assert.Equal(HttpStatusCode.OK, logout.StatusCode);
        var body = await logout.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(body.GetProperty("success").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);

        // The agents service learns it from the session.revoked event, or at worst when its 5 s status cache expires.
        var deadline = DateTime.UtcNow.AddSeconds(7);
        HttpStatusCode status;
        do
        {
            using var direct = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", session.Token, client: fixture.Agents);
            status = direct.StatusCode;
            if (status == HttpStatusCode.Unauthorized)
            {
                break;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
    }

    [Fact]
    public async Task A_service_learns_a_revocation_from_the_event_well_before_its_status_cache_expires()
    {
        var session = await fixture.NewUserAsync();
        // Prime the agents service's cache: "not revoked" for the next 5 s.
        using (var primed = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", session.Token, client: fixture.Agents))
        {
            Assert.Equal(HttpStatusCode.NotFound, primed.StatusCode);
        }

        using var logout = await fixture.SendAsync(HttpMethod.Post, "/api/auth/logout", session.Token);
        var revokedAt = DateTime.UtcNow;
        HttpStatusCode status;
        do
        {
            using var direct = await fixture.SendAsync(HttpMethod.Get, "/api/v1/agents/anything", session.Token, client: fixture.Agents);
            status = direct.StatusCode;
            if (status == HttpStatusCode.Unauthorized)
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < revokedAt.AddSeconds(3));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.True(DateTime.UtcNow - revokedAt < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Admin_routes_refuse_users_and_viewers_and_serve_admins()
    {
        var user = await fixture.NewUserAsync();
        var viewer = await fixture.NewUserAsync("viewer");
        Assert.Equal("viewer", viewer.Role);

        using var asUser = await fixture.SendAsync(HttpMethod.Get, "/api/v1/users", user.Token);
        using var asViewer = await fixture.SendAsync(HttpMethod.Get, "/api/v1/users", viewer.Token);
        using var patchAsUser = await fixture.SendAsync(HttpMethod.Patch, $"/api/v1/users/{user.UserId}", user.Token, new { role = "admin" });
        using var asAdmin = await fixture.SendAsync(HttpMethod.Get, "/api/v1/users?page=1&pageSize=2", fixture.Admin.Token);
        using var anonymous = await fixture.SendAsync(HttpMethod.Get, "/api/v1/users", null);

        Assert.Equal(HttpStatusCode.Forbidden, asUser.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, patchAsUser.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        var page = await asAdmin.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        Assert.True(page.GetProperty("total").GetInt32() >= 3);
        Assert.DoesNotContain("passwordHash", page.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Viewers_may_read_but_not_write()
    {
        var viewer = await fixture.NewUserAsync("viewer");

        using var read = await fixture.SendAsync(HttpMethod.Get, "/api/v1/rag/echo", viewer.Token);
        using var write = await fixture.SendAsync(HttpMethod.Post, "/api/v1/rag/echo", viewer.Token, new { x = 1 });
        using var writeDirect = await fixture.SendAsync(HttpMethod.Post, "/api/v1/agents", viewer.Token, new { x = 1 }, client: fixture.Agents);
        using var defaultPolicy = await fixture.SendAsync(HttpMethod.Post, "/api/v1/rag/default-policy", viewer.Token, new { x = 1 });

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, writeDirect.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, defaultPolicy.StatusCode);
    }

    [Fact]
    public async Task Deactivating_a_user_revokes_their_sessions_and_refuses_login()
    {
        var user = await fixture.NewUserAsync();

        using var patched = await fixture.SendAsync(HttpMethod.Patch, $"/api/v1/users/{user.UserId}", fixture.Admin.Token, new { isActive = false });
        using var me = await fixture.SendAsync(HttpMethod.Get, "/api/auth/me", user.Token);
        using var login = await fixture.Gateway.PostAsJsonAsync("/api/auth/login", new { email = user.Email, password = GatewayFixture.Password });

        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.False((await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isActive").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
    }
}
