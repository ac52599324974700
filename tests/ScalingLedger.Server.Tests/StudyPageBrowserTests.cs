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

        // The HTML alone (no script runs) shows the four panels: the Server's first paint of each, with the same data.
        await using (var still = await browser.NewContextAsync(new() { JavaScriptEnabled = false, ViewportSize = new() { Width = 1400, Height = 1600 } }))
        {
            var plain = await still.NewPageAsync();
            await plain.GotoAsync($"{baseUrl}/studies/{id}");
            foreach (var panel in new[] { "panel-loss-width", "panel-loss-rate", "panel-heatmap", "panel-optimal-lr" })
                (await plain.Locator($".ledger-chart-box:has(#{panel}) > .first-paint svg").CountAsync()).ShouldBe(1, $"{panel} in the HTML");
            var lossRate = await plain.Locator(".ledger-chart-box:has(#panel-loss-rate) > .first-paint svg text").AllTextContentsAsync();
            lossRate.ShouldContain("width 8");
            lossRate.ShouldContain("width 32");
            (await plain.Locator(".ledger-chart-box:has(#panel-loss-width) > .first-paint svg text").AllTextContentsAsync()).ShouldContain("lr 0.003");
            (await plain.Locator("#fits").CountAsync()).ShouldBe(1);
            await plain.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "study-page-first-paint.png") });
        }

        // A replay's step shows the Server's pictures at once; once the replay rests ApexCharts draws them again.
        var draws = await chart.GetAttributeAsync("data-draws");
        await page.Locator("#replay-start").ClickAsync();
        var stepPicture = page.Locator(".ledger-chart-box:has(#panel-loss-width) > .first-paint svg");
        await stepPicture.WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 10_000 });
        // The trial grid waits for the replay to rest, and says so.
        (await page.Locator("#grid-behind").CountAsync()).ShouldBe(1);
        await stepPicture.WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 20_000 });
        (await page.Locator("#grid-behind").CountAsync()).ShouldBe(0);
        (await chart.GetAttributeAsync("data-draws")).ShouldNotBe(draws, "ApexCharts drew the replayed point once the replay rested");
        await page.Locator("#replay-live").ClickAsync();
        await page.Locator("#replaying").WaitForAsync(new() { State = WaitForSelectorState.Detached });

        // Each trial links to its own page: the loss curve from its checkpoints and its provenance.
        await page.Locator("#trial-grid a").First.ClickAsync();
        await BrowserSession.AddressAsync(page, $"/studies/{id}/trials/");
        await page.Locator("#loss-curve svg.apexcharts-svg").WaitForAsync(new() { Timeout = 20_000 });
        (await page.Locator("#loss-curve .apexcharts-series[seriesName]").CountAsync()).ShouldBe(2);
        (await page.ContentAsync()).ShouldContain("train-images-idx3-ubyte.gz");
        await page.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "trial-page.png"), FullPage = true });

        // A prediction's page explains it: its fit, its evidence, and the re-derivation that verifies it.
        await page.GotoAsync($"{baseUrl}/studies/{id}");
        // Followed once the page answers clicks: before that the link loads the prerendered audit, which the circuit then
        // draws again from "Re-deriving..." (a count read in between saw no evidence rows).
        await page.Locator("#interactive").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 20_000 });
        await page.Locator("#predictions a").First.ClickAsync();
        await BrowserSession.AddressAsync(page, "/predictions/");
        await page.Locator("#verified", new() { HasText = "verified" }).WaitForAsync(new() { Timeout = 20_000 });
        (await page.Locator("#verified").InnerTextAsync()).ShouldBe("verified");
        try
        {
            await page.Locator("#evidence tbody tr").First.WaitForAsync(new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            // Seen once in 50 runs under two CPU burners (issue 24): the audit's evidence table empty while it verified. What
            // the API says of the same prediction, and the fit's evidence as recorded, name the cause next time.
            var prediction = page.Url.Split("/predictions/")[1].Split('?')[0];
            var audit = await client.GetStringAsync($"/api/predictions/{prediction}");
            var fits = await client.GetStringAsync($"/api/studies/{id}/fits");
            throw new ShouldAssertException($"the audit of prediction {prediction} shows no evidence trials; its audit: {audit}\n" +
                $"the study's fits: {fits[..Math.Min(fits.Length, 20_000)]}");
        }
        await page.ScreenshotAsync(new() { Path = Path.Combine("screenshots", "prediction-page.png"), FullPage = true });
        var circuits = app.Logs.Messages.Where(m => m.Contains("circuit", StringComparison.OrdinalIgnoreCase));
        errors.ShouldBeEmpty($"the Server logged: {string.Join("\n", circuits)}");
    }

    /// <summary>
    /// Under load a link followed before the study page finished drawing left its charts' elements off the page while
    /// their draws were on their way: ApexCharts rejected ("Element not found"; tearing down the old chart, "reading
    /// 'parentNode'") and the exception ended the page's circuit. Drawing into an element that left the page is nothing.
    /// </summary>
    [Fact]
    public async Task a_chart_whose_element_left_the_page_is_not_drawn_and_fails_nothing()
    {
        await using var app = await pg.NewLedgerAsync();
        var baseUrl = app.StartOnKestrel();
        await using var session = await BrowserSession.StartAsync(baseUrl);
        await session.Page.GotoAsync($"{baseUrl}/studies");
        var outcome = await session.Page.EvaluateAsync<string>("""
            async () => {
              const m = await import('/_content/ScalingLedger.Web/ledger-chart.js');
              const json = JSON.stringify({ chart: { type: 'line', animations: { enabled: false } }, xaxis: { type: 'numeric' },
                                            series: [{ name: 'a', data: [[1, 2], [2, 3]] }] });
              const outcome = [];
              const attempt = async (what, f) => {
                try { await f(); outcome.push(what + ': ok'); } catch (e) { outcome.push(what + ': ' + e.message); }
              };
              const gone = document.createElement('div');
              await attempt('never on the page', () => m.create(gone, 'gone', json));
              const instead = document.createElement('div');
              document.body.appendChild(instead);
              await attempt('drawn instead', () => m.create(instead, 'gone', json));
              const left = document.createElement('div');
              document.body.appendChild(left);
              await attempt('drawn', () => m.create(left, 'left', json));
              left.remove();
              await attempt('updated after it left', () => m.update(left, 'left', json));
              const again = document.createElement('div');
              document.body.appendChild(again);
              await attempt('drawn again in its place', () => m.create(again, 'left', json));
              // Blazor hands the element of a component that left the page as null: its late calls touch nothing.
              await attempt('a gone component draws', () => m.create(null, 'left', json));
              await attempt('updates', () => m.update(null, 'left', json));
              await attempt('and is disposed', () => m.destroy('left', null));
              const mid = document.createElement('div');
              document.body.appendChild(mid);
              await attempt('left while drawing', () => { const drawing = m.create(mid, 'mid', json); mid.remove(); return drawing; });
              const after = document.createElement('div');
              document.body.appendChild(after);
              await attempt('drawn in the place of one that left while drawing', () => m.create(after, 'mid', json));
              const shown = [instead, again, after].every(e => e.querySelector('svg.apexcharts-svg'));
              outcome.push(shown ? 'the new charts are on the page' : 'a chart is missing');
              return outcome.join('; ');
            }
            """);
        outcome.ShouldBe("never on the page: ok; drawn instead: ok; drawn: ok; updated after it left: ok; drawn again in its place: ok; " +
            "a gone component draws: ok; updates: ok; and is disposed: ok; left while drawing: ok; " +
            "drawn in the place of one that left while drawing: ok; the new charts are on the page");
        session.Errors.ShouldBeEmpty();
    }
}
