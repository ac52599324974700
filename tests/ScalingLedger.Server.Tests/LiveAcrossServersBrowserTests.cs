using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Server.Outbox;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// Two Servers on one database: a study page open on the one that records nothing follows what the other records (its
/// trainer's reports, its reactor's fits, a cancel taken by it), within 2 s of each, without a reload.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed partial class LiveAcrossServersBrowserTests(PostgresFixture pg)
{
    private static readonly string Recording = SiteBrowserTests.Recording;
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task a_page_on_one_server_follows_the_reports_fits_and_cancel_recorded_by_another()
    {
        // The Server that records: it trains (slowly, so that a trial runs while the page watches), fits and takes the cancel.
        await using var recorder = await pg.NewLedgerAsync(("Trainer:Replay", Recording), ("Trainer:ReplayReportsPerSecond", "3"));
        using var api = recorder.CreateClient();
        await StudyApi.WaitHealthyAsync(api, TimeSpan.FromSeconds(60));
        // The recorder sends the trials: it reconciles before the viewer starts (health does not wait for that).
        var reconciler = recorder.Services.GetRequiredService<TrialReconciler>();
        await WaitAsync(() => Task.FromResult(reconciler.Leading), leading => leading, TimeSpan.FromSeconds(30), "the recorder to reconcile");
        // The Server the page is on: no trainer, and started second, so the reconciler and the reactors stay with the first.
        await using var viewer = new LedgerApp(recorder.ConnectionString, [("Ledger:EmbeddedTrainer", "false")]);
        var viewerUrl = viewer.StartOnKestrel();
        using var viewerApi = new HttpClient { BaseAddress = new Uri(viewerUrl) };
        await StudyApi.WaitHealthyAsync(viewerApi, TimeSpan.FromSeconds(60));

        var id = await StudyApi.DefineAsync(api, StudyApi.TinySpec(widths: [2, 3, 4], rates: [0.001, 0.01, 0.1]));
        await using var session = await BrowserSession.StartAsync(viewerUrl);
        var page = session.Page;
        await page.GotoAsync($"{viewerUrl}/studies/{id}");
        await session.InteractiveAsync();
        await page.EvaluateAsync("() => window.__notReloaded = true");

        // Reports: a running trial's checkpoint recorded after the page was drawn shows on it.
        await WaitAsync(async () => MaxStep(await page.Locator("#trial-grid").InnerTextAsync()), s => s > 0, TimeSpan.FromSeconds(60),
            "a running trial's step on the page");
        var shown = MaxStep(await page.Locator("#trial-grid").InnerTextAsync());
        var step = await WaitAsync(async () => RunningStep(await StudyApi.GetAsync(api, $"/api/studies/{id}")), s => s > shown + 1,
            TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        await WaitAsync(async () => MaxStep(await page.Locator("#trial-grid").InnerTextAsync()), s => s >= step, Within,
            $"the page to show step {step} of a running trial");
        clock.Elapsed.ShouldBeLessThan(Within);

        // Fits: the recorder's reactor fits the laws once widths end; the page's law table follows.
        var fits = await WaitAsync(async () => (await StudyApi.GetAsync(api, $"/api/studies/{id}"))["latestFits"]!.AsArray().Count, n => n > 0,
            TimeSpan.FromSeconds(90));
        clock.Restart();
        await WaitAsync(() => page.Locator("#fits tbody tr").CountAsync(), n => n > 0, Within, $"the page to show the fits ({fits} recorded)");
        clock.Elapsed.ShouldBeLessThan(Within);

        // The cancel, taken by the recorder.
        (await api.PostAsync($"/api/studies/{id}/cancel", null)).EnsureSuccessStatusCode();
        clock.Restart();
        await page.Locator("#study-status", new() { HasText = "Cancelled" }).WaitForAsync(new() { Timeout = (float)Within.TotalMilliseconds });
        clock.Elapsed.ShouldBeLessThan(Within);

        (await page.EvaluateAsync<bool>("() => window.__notReloaded === true")).ShouldBeTrue("the page reloaded instead of following the ledger");
        session.Errors.ShouldBeEmpty();
        viewer.Logs.Messages.ShouldNotContain(m => m.Contains("Cannot hear of the ledger's changes"));
    }

    private static int RunningStep(System.Text.Json.Nodes.JsonObject study) =>
        study["trials"]!.AsArray().Where(t => t!["status"]!.GetValue<string>() == "Running")
            .Select(t => t!["checkpoints"]?.AsArray().LastOrDefault()?["step"]?.GetValue<int>() ?? 0).DefaultIfEmpty(0).Max();

    private static int MaxStep(string grid) => StepText().Matches(grid).Select(m => int.Parse(m.Groups[1].Value)).DefaultIfEmpty(0).Max();

    [GeneratedRegex(@"step (\d+):")]
    private static partial Regex StepText();

    private static async Task<T> WaitAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan timeout, string? what = null)
    {
        var deadline = Stopwatch.StartNew();
        var value = await read();
        while (!done(value))
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what ?? "a change"}; last saw {value}");
            await Task.Delay(50);
            value = await read();
        }
        return value;
    }
}
