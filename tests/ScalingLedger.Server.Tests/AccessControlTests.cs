using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Marten;
using MassTransit;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Outbox;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Access control on: tokens with roles, per-study ownership, the event's user always the authenticated one, and a site
/// that asks to sign in. Off: one local user, on loopback only.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class AccessControlTests(PostgresFixture pg)
{
    private const string AdminSecret = "admin-secret-for-tests-0123456789";

    private async Task<(LedgerApp App, HttpClient Admin)> StartAsync()
    {
        var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", AdminSecret), ("Ledger:EmbeddedTrainer", "false"));
        return (app, Client(app, AdminSecret));
    }

    private static HttpClient Client(LedgerApp app, string? token)
    {
        var client = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<(string Id, string Token)> TokenAsync(HttpClient admin, string subject, string role)
    {
        var response = await admin.PostAsJsonAsync("/api/tokens", new { subject, role });
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body);
        var made = JsonNode.Parse(body)!;
        return (made["id"]!.GetValue<string>(), made["token"]!.GetValue<string>());
    }

    private static StringContent Csv() => new("width,loss\n64,1.0\n128,0.9\n256,0.85\n512,0.82\n", Encoding.UTF8, "text/csv");

    [Fact]
    public async Task health_says_the_database_is_down_to_anyone_and_why_only_to_admins()
    {
        var (app, _) = await StartAsync();
        await using var __ = app;
        // A real store whose database refuses connections (nothing listens on port 9 here).
        await using var unreachable = DocumentStore.For("Host=127.0.0.1;Port=9;Database=nowhere;Username=nobody;Password=none;Timeout=3");
        var bus = app.Services.GetRequiredService<IBusControl>();
        var reconciler = app.Services.GetRequiredService<TrialReconciler>();
        async Task<(int? Status, string Body)> HealthAs(ClaimsPrincipal user)
        {
            var result = await LedgerHealth.CheckAsync(unreachable, bus, reconciler, warm: true, user, NullLogger.Instance,
                CancellationToken.None);
            // As the API writes it (web names).
            return (((IStatusCodeHttpResult)result).StatusCode,
                System.Text.Json.JsonSerializer.Serialize(((IValueHttpResult)result).Value, Contracts.LedgerJson.Api));
        }

        var anonymous = await HealthAs(new ClaimsPrincipal(new ClaimsIdentity()));
        var reader = await HealthAs(LedgerUser.Principal("rita", LedgerRoles.Reader, "test"));
        var admin = await HealthAs(LedgerUser.Principal("root", LedgerRoles.Admin, "test"));
        foreach (var (status, body) in new[] { anonymous, reader, admin })
        {
            status.ShouldBe(StatusCodes.Status503ServiceUnavailable);
            JsonNode.Parse(body)!["down"]!.AsArray().Select(d => d!.GetValue<string>()).ShouldContain("database");
        }
        anonymous.Body.ShouldNotContain("error");
        anonymous.Body.ShouldNotContain("127.0.0.1");
        reader.Body.ShouldNotContain("error");
        admin.Body.ShouldContain("\"error\":");
    }

    [Fact]
    public async Task a_reader_gets_403_on_every_write_and_every_event_names_the_token_s_subject_whatever_the_request_says()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var reader = Client(app, (await TokenAsync(admin, "rita", "reader")).Token);
        var alice = Client(app, (await TokenAsync(admin, "alice", "researcher")).Token);

        // A researcher defines a study; the request claims to be someone else in a header and names another owner.
        var spec = StudyApi.TinySpec();
        spec["owner"] = "bob";
        alice.DefaultRequestHeaders.Add("X-Ledger-User", "mallory");
        var id = await StudyApi.DefineAsync(alice, spec);
        var events = await StudyApi.GetArrayAsync(reader, $"/api/studies/{id}/events");
        events[0]!["user"]!.GetValue<string>().ShouldBe("alice");
        (await StudyApi.GetAsync(reader, $"/api/studies/{id}"))["owner"]!.GetValue<string>().ShouldBe("alice");

        var writes = new (string What, Func<Task<HttpResponseMessage>> Send)[]
        {
            ("define", () => reader.PostAsJsonAsync("/api/studies", StudyApi.TinySpec())),
            ("import", () => reader.PostAsync("/api/studies/import?name=x", Csv())),
            ("cancel", () => reader.PostAsJsonAsync($"/api/studies/{id}/cancel", new { reason = "no" })),
            ("coordinate check", () => reader.PostAsJsonAsync($"/api/studies/{id}/coordinate-checks", new { steps = 2 })),
            ("grant", () => reader.PostAsJsonAsync($"/api/studies/{id}/grants", new { user = "rita", permission = "manage" })),
            ("token", () => reader.PostAsJsonAsync("/api/tokens", new { subject = "rita", role = "admin" })),
            ("revoke", () => reader.DeleteAsync("/api/tokens/0000000000000000")),
            ("import events", () => reader.PostAsJsonAsync("/api/studies/import-events", new { format = "scalingledger-study-events/1" })),
            ("export", () => reader.GetAsync($"/api/studies/{id}/export")),
        };
        foreach (var (what, send) in writes)
            (await send()).StatusCode.ShouldBe(HttpStatusCode.Forbidden, what);
        (await StudyApi.GetArrayAsync(reader, $"/api/studies/{id}/events")).Count.ShouldBe(events.Count);
        (await StudyApi.GetArrayAsync(reader, "/api/studies")).Count.ShouldBe(1);

        // No token, or one that is not a token: 401 before anything is read.
        (await Client(app, null).GetAsync("/api/studies")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Client(app, "sl_0123456789abcdef_" + new string('0', 64)).GetAsync("/api/studies")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await Client(app, null).GetAsync("/health")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task a_study_is_managed_by_its_owner_the_users_it_grants_and_admins()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var alice = Client(app, (await TokenAsync(admin, "alice", "researcher")).Token);
        var bob = Client(app, (await TokenAsync(admin, "bob", "researcher")).Token);
        var id = await StudyApi.DefineAsync(alice, StudyApi.TinySpec());

        (await bob.PostAsJsonAsync($"/api/studies/{id}/cancel", new { reason = "mine now" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        // Its events carry failure details in full: exported by those who manage it; brought into a ledger by admins only.
        (await bob.GetAsync($"/api/studies/{id}/export")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var export = await alice.GetAsync($"/api/studies/{id}/export");
        export.StatusCode.ShouldBe(HttpStatusCode.OK);
        var exported = await export.Content.ReadAsStringAsync();
        (await alice.PostAsync("/api/studies/import-events", new StringContent(exported, Encoding.UTF8, "application/json")))
            .StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await bob.PostAsJsonAsync($"/api/studies/{id}/grants", new { user = "bob", permission = "manage" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var granted = await alice.PostAsJsonAsync($"/api/studies/{id}/grants", new { user = "bob", permission = "manage" });
        granted.StatusCode.ShouldBe(HttpStatusCode.OK, await granted.Content.ReadAsStringAsync());
        (await bob.PostAsJsonAsync($"/api/studies/{id}/cancel", new { reason = "done early" })).StatusCode.ShouldBe(HttpStatusCode.Accepted);

        var events = await StudyApi.GetArrayAsync(alice, $"/api/studies/{id}/events");
        var grant = events.Single(e => e!["type"]!.GetValue<string>() == "StudyAccessGranted")!;
        grant["user"]!.GetValue<string>().ShouldBe("alice");
        grant["data"]!["user"]!.GetValue<string>().ShouldBe("bob");
        var cancelled = events.Single(e => e!["type"]!.GetValue<string>() == "StudyCancelled")!;
        cancelled["user"]!.GetValue<string>().ShouldBe("bob");
        cancelled["data"]!["reason"]!.GetValue<string>().ShouldBe("done early");
    }

    [Fact]
    public async Task a_revoked_token_stops_at_once_and_no_token_is_stored_in_the_clear()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var (tokenId, token) = await TokenAsync(admin, "carol", "researcher");
        var carol = Client(app, token);
        (await carol.GetAsync("/api/me")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await StudyApi.GetAsync(carol, "/api/me"))["user"]!.GetValue<string>().ShouldBe("carol");

        await using (var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession())
        {
            var stored = await session.Json.FindByIdAsync<Access.ApiToken>(tokenId);
            stored.ShouldNotBeNull();
            stored.ShouldNotContain(token[20..]);
        }
        (await admin.DeleteAsync($"/api/tokens/{tokenId}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await carol.GetAsync("/api/me")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var listed = await StudyApi.GetArrayAsync(admin, "/api/tokens");
        listed.Single(t => t!["id"]!.GetValue<string>() == tokenId)!["revokedBy"]!.GetValue<string>().ShouldBe("admin");

        var bad = await admin.PostAsJsonAsync("/api/tokens", new { subject = "x\u202Ey", role = "owner" });
        bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var problem = await bad.Content.ReadAsStringAsync();
        problem.ShouldContain("\"subject\"");
        problem.ShouldContain("\"role\"");
    }

    [Fact]
    public async Task the_site_asks_to_sign_in_and_a_token_signs_in_for_a_session()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var (_, token) = await TokenAsync(admin, "dora", "reader");
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

        var page = await browser.GetAsync("/studies");
        page.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        page.Headers.Location!.ToString().ShouldContain("/signin");

        (await SiteSession.SignInAsync(browser, "sl_not_a_token")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var signedIn = await SiteSession.SignInAsync(browser, token);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        signedIn.Headers.Location!.ToString().ShouldBe("/studies");
        signedIn.Headers.GetValues("Set-Cookie").ShouldContain(c => c.Contains("httponly", StringComparison.OrdinalIgnoreCase)
            && c.Contains("samesite=strict", StringComparison.OrdinalIgnoreCase));
        (await browser.GetAsync("/studies")).StatusCode.ShouldBe(HttpStatusCode.OK);
        // A reader's cookie reads the API, but does not write.
        (await browser.GetAsync("/api/studies")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await browser.PostAsync("/api/studies/import?name=x", Csv())).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task a_name_alone_manages_nothing_and_a_user_is_one_name_with_one_role()
    {
        var (app, admin) = await StartAsync();
        await using var _ = app;
        var (_, ritaToken) = await TokenAsync(admin, "rita", "researcher");
        var rita = Client(app, ritaToken);
        var created = await rita.PostAsync("/api/studies/import?name=ritas", Csv());
        created.StatusCode.ShouldBe(HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!.GetValue<Guid>();

        // No second user under her name, in any spelling, nor under the configured admin's; a second token of hers is hers.
        foreach (var (subject, role) in new[] { ("rita", "reader"), ("RITA", "researcher"), ("ｒｉｔａ", "researcher"), ("admin", "reader") })
        {
            var refused = await admin.PostAsJsonAsync("/api/tokens", new { subject, role });
            refused.StatusCode.ShouldBe(HttpStatusCode.Conflict, $"{subject} {role}: {await refused.Content.ReadAsStringAsync()}");
        }
        await TokenAsync(admin, "rita", "researcher");

        // A reader named like the owner, as an earlier version let an admin make one: a name alone manages nothing.
        var tokens = app.Services.GetRequiredService<ApiTokens>();
        var namesake = Client(app, (await tokens.CreateAsync("rita", LedgerRoles.Reader, "admin", TimeProvider.System, default)).Secret);
        (await namesake.GetAsync($"/api/studies/{id}/export")).StatusCode.ShouldBe(HttpStatusCode.Forbidden, "failure stacks are for managers");
        (await namesake.PostAsJsonAsync($"/api/studies/{id}/coordinate-checks", new { steps = 2 })).StatusCode
            .ShouldBe(HttpStatusCode.Forbidden, "coordinate checks spend trainers' compute");
        (await namesake.PostAsJsonAsync($"/api/studies/{id}/grants", new { user = "mallory", permission = "manage" })).StatusCode
            .ShouldBe(HttpStatusCode.Forbidden);
        (await namesake.PostAsJsonAsync($"/api/studies/{id}/cancel", new { reason = "mine" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        // The owner, a researcher, manages it.
        (await rita.GetAsync($"/api/studies/{id}/export")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task a_site_session_made_with_the_configured_admin_token_ends_when_that_token_changes()
    {
        var (app, _) = await StartAsync();
        var connection = app.ConnectionString;
        var browser = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var signedIn = await SiteSession.SignInAsync(browser, AdminSecret, carryCookies: true);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var session = SiteSession.SessionCookie(signedIn).Split(';')[0];
        await app.DisposeAsync();

        async Task<HttpStatusCode> MeWith(string adminToken)
        {
            await using var server = new LedgerApp(connection, [("Ledger:AccessControl", "true"), ("Ledger:AdminToken", adminToken),
                ("Ledger:EmbeddedTrainer", "false")]);
            var client = server.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            var me = new HttpRequestMessage(HttpMethod.Get, "/api/me");
            me.Headers.Add("Cookie", session);
            return (await client.SendAsync(me)).StatusCode;
        }
        // The session stands on a Server with the same admin token (so what follows is the token's doing) ...
        (await MeWith(AdminSecret)).ShouldBe(HttpStatusCode.OK);
        // ... and ends on one whose admin token was changed.
        (await MeWith("a-new-admin-secret-after-rotation-0123")).ShouldBe(HttpStatusCode.Unauthorized);
    }


    [Fact]
    public async Task without_access_control_the_ledger_is_the_local_user_and_will_not_listen_beyond_this_machine()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        (await StudyApi.GetAsync(client, "/api/me"))["user"]!.GetValue<string>().ShouldBe("local");

        // The real Server, asked to listen on every address with access control off, says why and stops before it
        // starts anything (its database included).
        var server = Path.Combine(AppContext.BaseDirectory, "ScalingLedger.Server.dll");
        var start = new ProcessStartInfo("dotnet", [server, "--urls", "http://0.0.0.0:0"])
        {
            RedirectStandardError = true, RedirectStandardOutput = true, Environment = { ["ConnectionStrings__Ledger"] = "" },
        };
        using var process = Process.Start(start)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        process.ExitCode.ShouldBe(3, error);
        error.ShouldContain("Access control is off");
        error.ShouldContain("0.0.0.0");
    }
}
