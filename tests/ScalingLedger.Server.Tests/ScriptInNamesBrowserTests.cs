using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Names are data, never markup: studies, owners and layers named with script are compared and drawn in real Chromium,
/// shown as text, and the script never runs (ApexCharts writes legends and tooltips with innerHTML: every name is escaped
/// before it gets there, and the Content-Security-Policy would stop an inline handler besides).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ScriptInNamesBrowserTests(PostgresFixture pg)
{
    private const string Img = "<img src=x onerror=\"window.__xss=(window.__xss||0)+1\">";
    private const string Svg = "<svg onload=\"window.__xss=(window.__xss||0)+1\">";

    [Fact]
    public async Task studies_and_layers_named_with_script_are_compared_and_drawn_and_the_script_never_runs()
    {
        File.Exists(StudyPageBrowserTests.Chromium).ShouldBeTrue($"{StudyPageBrowserTests.Chromium} is missing: ./test.sh installs it.");
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var baseUrl = app.StartOnKestrel();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };

        // Each width's best rate inside the grid, moving down as width grows: both the frontier and the optimal-LR law fit.
        var csv = "width,learningRate,loss\n" + string.Join("\n", new[] { 32, 64, 128, 256 }.SelectMany((w, i) => new[] { 0.001, 0.003, 0.01, 0.03 }
            .Select((lr, j) => FormattableString.Invariant($"{w},{lr},{2.0 - 0.1 * i + 0.05 * Math.Pow(j - 2.0 + 0.4 * i, 2)}")))) + "\n";
        async Task<Guid> ImportAsync(string name, string owner)
        {
            var response = await client.PostAsync($"/api/studies/import?name={Uri.EscapeDataString(name)}&owner={Uri.EscapeDataString(owner)}",
                new StringContent(csv, Encoding.UTF8, "text/csv"));
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
            return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        }
        var first = await ImportAsync(Img, Svg);
        var second = await ImportAsync(Svg + " two", Img);

        // A trained study whose coordinate check names its layers with script.
        var spec = StudyApi.TinySpec(name: Img);
        var trained = await StudyApi.DefineAsync(client, spec);
        var asked = await client.PostAsJsonAsync($"/api/studies/{trained}/coordinate-checks", new { widths = new[] { 8, 16 }, steps = 2 });
        asked.StatusCode.ShouldBe(HttpStatusCode.Accepted, await asked.Content.ReadAsStringAsync());
        var checkId = (await asked.Content.ReadFromJsonAsync<JsonObject>())!["checkId"]!.GetValue<Guid>();
        IReadOnlyList<IReadOnlyList<double>> Rows(double scale) => [[1.0 * scale, 2.0 * scale], [1.1 * scale, 2.2 * scale], [1.2 * scale, 2.5 * scale]];
        await app.Services.GetRequiredService<IBus>().Publish(new CoordinateCheckRecorded(trained, checkId, "standard", null, 0.01, 2, [Img, Svg],
            [new CoordinateCheckWidth(8, Rows(1)), new CoordinateCheckWidth(16, Rows(2))], DateTimeOffset.UtcNow));

        await using var session = await BrowserSession.StartAsync(baseUrl);
        var page = session.Page;
        await page.GotoAsync($"{baseUrl}/compare?ids={first},{second}");
        await session.InteractiveAsync();
        foreach (var chart in new[] { "compare-frontiers", "compare-optimal-lr" })
        {
            var series = await SiteBrowserTests.ChartAsync(page, chart);
            series.Keys.ShouldContain(k => k.StartsWith(Img, StringComparison.Ordinal), $"{chart}: {string.Join(" | ", series.Keys)}");
            await HoverAsync(page, chart);
        }
        (await page.Locator("#compare-frontiers .apexcharts-legend").InnerTextAsync()).ShouldContain(Img);

        await page.GotoAsync($"{baseUrl}/studies/{trained}");
        await session.InteractiveAsync();
        var layers = await SiteBrowserTests.ChartAsync(page, $"coord-{checkId:N}");
        layers.Keys.ShouldContain(k => k.Contains(Img, StringComparison.Ordinal));
        await HoverAsync(page, $"coord-{checkId:N}");
        (await page.Locator("h1").First.InnerTextAsync()).ShouldContain(Img);
        await session.ScreenshotAsync("script-in-names", $"coord-{checkId:N}");

        // Shown as text everywhere, and nothing ran: no element was made from a name, no handler fired.
        (await page.EvaluateAsync<int>("() => document.querySelectorAll('img[src=x], svg[onload], [onerror]').length")).ShouldBe(0);
        (await page.EvaluateAsync<bool>("() => window.__xss === undefined")).ShouldBeTrue("a script in a name ran");
        session.Errors.ShouldBeEmpty();
    }

    /// <summary>Moves the pointer across the chart so that ApexCharts writes its tooltip (innerHTML) for the points under it.</summary>
    private static async Task HoverAsync(Microsoft.Playwright.IPage page, string chart)
    {
        var box = await page.Locator($"#{chart} svg").First.BoundingBoxAsync();
        box.ShouldNotBeNull(chart);
        for (var x = 0.1; x < 0.95; x += 0.08)
            await page.Mouse.MoveAsync((float)(box.X + box.Width * x), (float)(box.Y + box.Height * 0.5));
        (await page.EvaluateAsync<int>($"() => document.querySelectorAll('#{chart} img, #{chart} [onerror], #{chart} svg[onload]').length"))
            .ShouldBe(0, $"{chart}: an element was made from a name");
    }
}
