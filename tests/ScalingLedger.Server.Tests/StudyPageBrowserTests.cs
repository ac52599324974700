using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ScalingLedger.Server.Tests;

/// <summary>The site in real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the real Server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class StudyPageBrowserTests(PostgresFixture pg)
{
    public const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task the_study_page_renders_the_loss_chart_with_a_series_per_learning_rate_and_the_fitted_lines()
    {
        File.Exists(Chromium).ShouldBeTrue($"{Chromium} is missing: ./test.sh installs it (apt-get install chromium).");
        await using var app = await pg.NewLedgerAsync();
        var baseUrl = app.StartOnKestrel();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(name: "browser-study", widths: [8, 16, 32], rates: [0.003, 0.01]));
        await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromMinutes(3));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 1600 } });
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        var responses = new List<string>();
        page.Response += (_, r) => { responses.Add($"{r.Status} {r.Url}"); if (r.Status >= 400) errors.Add($"{r.Status} {r.Url}"); };
        page.RequestFailed += (_, r) => errors.Add($"failed {r.Url}: {r.Failure}");

        await page.GotoAsync($"{baseUrl}/studies");
        await page.Locator("#studies a", new() { HasText = "browser-study" }).ClickAsync();
        await BrowserSession.AddressAsync(page, $"/studies/{id}");
        await page.Locator("#study-status", new() { HasText = "Completed" }).WaitForAsync();

        // The chart draws one scatter series per learning rate and one dashed line per fitted learning rate.
        var chart = page.Locator("#panel-loss-width");
        try
        {
            await chart.Locator("svg.apexcharts-svg").WaitForAsync(new() { Timeout = 20_000 });
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"The chart did not render. Browser errors: {string.Join(" | ", errors)}; " +
                $"responses: {string.Join(" | ", responses)}", ex);
        }
        await chart.Locator(".apexcharts-legend-series", new() { HasText = "fixed-lr-loglinear lr 0.01" }).WaitForAsync();
        var legend = await chart.Locator(".apexcharts-legend-series").AllInnerTextsAsync();
        legend.ShouldContain(s => s.Contains("lr 0.003"));
        (await chart.Locator(".apexcharts-series[seriesName]").CountAsync()).ShouldBeGreaterThanOrEqualTo(2);
        (await chart.Locator("path.apexcharts-line").CountAsync()).ShouldBeGreaterThan(0);
        (await page.Locator("#trial-grid .badge").AllInnerTextsAsync()).Count.ShouldBe(6);
        (await page.Locator("#predictions tbody tr").CountAsync()).ShouldBeGreaterThan(0);

        Directory.CreateDirectory("screenshots");
        await page.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "study-page.png"), FullPage = true });

        // Each trial links to its own page: the loss curve from its checkpoints and its provenance.
        await page.Locator("#trial-grid a").First.ClickAsync();
        await BrowserSession.AddressAsync(page, $"/studies/{id}/trials/");
        await page.Locator("#loss-curve svg.apexcharts-svg").WaitForAsync(new() { Timeout = 20_000 });
        (await page.Locator("#loss-curve .apexcharts-series[seriesName]").CountAsync()).ShouldBe(2);
        (await page.ContentAsync()).ShouldContain("train-images-idx3-ubyte.gz");
        await page.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "trial-page.png"), FullPage = true });

        // A prediction's page explains it: its fit, its evidence, and the re-derivation that verifies it.
        await page.GotoAsync($"{baseUrl}/studies/{id}");
        await page.Locator("#predictions a").First.ClickAsync();
        await BrowserSession.AddressAsync(page, "/predictions/");
        await page.Locator("#verified", new() { HasText = "verified" }).WaitForAsync(new() { Timeout = 20_000 });
        (await page.Locator("#verified").InnerTextAsync()).ShouldBe("verified");
        (await page.Locator("#evidence tbody tr").CountAsync()).ShouldBeGreaterThan(0);
        await page.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "prediction-page.png"), FullPage = true });
        errors.ShouldBeEmpty();
    }
}
