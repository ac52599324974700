using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace ScalingLedger.Server.Tests;

/// <summary>What another web page, open in a team member's browser, can make the ledger do: nothing.</summary>
[Collection(PostgresCollection.Name)]
public sealed class BrowserBoundaryTests(PostgresFixture pg)
{
    private const string Evil = "https://evil.example";

    [Fact]
    public async Task a_cross_site_text_plain_import_and_an_empty_cancel_from_another_origin_are_refused_and_store_nothing()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec());
        var before = (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count;

        // What a form or fetch on another site can send without a preflight: text/plain, or no body at all.
        var import = new HttpRequestMessage(HttpMethod.Post, "/api/studies/import?name=%3Cimg%20src%3Dx%3E&owner=x")
        {
            Content = new StringContent("width,loss\n64,1.0\n128,0.9\n", Encoding.UTF8, "text/plain"),
        };
        import.Headers.Add("Origin", Evil);
        (await client.SendAsync(import)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        var cancel = new HttpRequestMessage(HttpMethod.Post, $"/api/studies/{id}/cancel");
        cancel.Headers.Add("Origin", Evil);
        var refused = await client.SendAsync(cancel);
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await refused.Content.ReadAsStringAsync()).ShouldContain("another site");

        (await StudyApi.GetArrayAsync(client, "/api/studies")).Count.ShouldBe(1);
        (await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events")).Count.ShouldBe(before);
        (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["status"]!.GetValue<string>().ShouldBe("Running");

        // Without an Origin (a script, the command line) text/plain is still not a CSV: 415, naming what to send.
        var plain = await client.PostAsync("/api/studies/import?name=x", new StringContent("width,loss\n64,1\n", Encoding.UTF8, "text/plain"));
        plain.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        (await plain.Content.ReadAsStringAsync()).ShouldContain("text/csv");
        var form = await client.PostAsync($"/api/studies/{id}/cancel",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["reason"] = "x" }));
        form.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);

        // The ledger's own site (same origin) may write.
        var own = new HttpRequestMessage(HttpMethod.Post, $"/api/studies/{id}/cancel") { Content = JsonContent.Create(new { reason = "ours" }) };
        own.Headers.Add("Origin", client.BaseAddress!.GetLeftPart(UriPartial.Authority));
        (await client.SendAsync(own)).StatusCode.ShouldBe(HttpStatusCode.Accepted);
    }

    [Fact]
    public async Task a_request_for_another_host_name_gets_400_and_pages_forbid_inline_script()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var evil = new HttpRequestMessage(HttpMethod.Get, "/api/studies");
        evil.Headers.Host = "evil.example";
        (await client.SendAsync(evil)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var loopback = new HttpRequestMessage(HttpMethod.Get, "/api/studies");
        loopback.Headers.Host = "127.0.0.1:5080";
        (await client.SendAsync(loopback)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var page = await client.GetAsync("/studies");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        // Blazor adds its own (frame-ancestors 'self'); a browser enforces every policy it is given.
        var policy = page.Headers.GetValues("Content-Security-Policy").Single(p => p.Contains("script-src"));
        policy.ShouldContain("script-src 'self'");
        // Styles may be inline (ApexCharts sets them); scripts may not.
        policy.Split(';').Single(p => p.Trim().StartsWith("script-src", StringComparison.Ordinal)).ShouldNotContain("unsafe");
        var html = await page.Content.ReadAsStringAsync();
        System.Text.RegularExpressions.Regex.Matches(html, "<script(?![^>]*\\bsrc=)[^>]*>").Count.ShouldBe(0, "an inline script on the page");
    }
}
