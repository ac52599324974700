using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Playwright;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Tests;

/// <summary>No dead page: a panel that fails alone says so with an id the log has, and a page whose Server restarted comes back.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PageErrorsBrowserTests(PostgresFixture pg)
{
    private static readonly string Recording = SiteBrowserTests.Recording;

    [Fact]
    public async Task a_panel_that_fails_shows_an_error_id_the_log_has_and_the_rest_of_the_page_goes_on()
    {
        // The site reads fits whose parameters did not survive (as a document read back broken would): the law table cannot show them.
        await using var app = await pg.NewLedgerAsync(
            s => s.Replace(ServiceDescriptor.Singleton<ILedgerQueries>(sp => new BrokenFits(sp.GetRequiredService<LedgerQueries>()))),
            ("Trainer:Replay", Recording), ("Trainer:ReplayReportsPerSecond", "1000"));
        var baseUrl = app.StartOnKestrel();
        using var api = new HttpClient { BaseAddress = new Uri(baseUrl) };
        var id = await StudyApi.DefineAsync(api, StudyApi.TinySpec(widths: [2, 3, 4], rates: [0.001, 0.01, 0.1]));
        await StudyApi.WaitForStatusAsync(api, id, "Completed", TimeSpan.FromSeconds(90));
        await StudyApi.WaitForReactorsAsync(api, TimeSpan.FromSeconds(60));

        await using var session = await BrowserSession.StartAsync(baseUrl);
        var page = session.Page;
        await page.GotoAsync($"{baseUrl}/studies/{id}");
        await session.InteractiveAsync();

        var failed = page.Locator(".panel-error[data-panel='law table']");
        await failed.WaitForAsync(new() { Timeout = 10_000 });
        var errorId = await failed.Locator(".error-id").InnerTextAsync();
        errorId.ShouldMatch("^[0-9a-f]{8}$");
        app.Logs.Messages.ShouldContain(m => m.Contains($"Page error {errorId}") && m.Contains("NullReferenceException"));
        // The rest of the page is drawn and alive: its status, its trial grid, and its replay answers a click.
        (await page.Locator("#trial-grid").IsVisibleAsync()).ShouldBeTrue();
        (await page.Locator("#study-status").InnerTextAsync()).ShouldBe("Completed");
        (await page.Locator("#blazor-error-ui").IsVisibleAsync()).ShouldBeFalse("the circuit ended");
        await page.Locator("#replay-back").ClickAsync();
        await session.AddressAsync("asOf=");
        await page.Locator("#replaying").WaitForAsync(new() { Timeout = 10_000 });
    }

    [Fact]
    public async Task a_page_whose_server_restarted_reconnects_and_reads_its_study_again()
    {
        var first = await pg.NewLedgerAsync(("Trainer:Replay", Recording), ("Trainer:ReplayReportsPerSecond", "1000"));
        var baseUrl = first.StartOnKestrel();
        var port = new Uri(baseUrl).Port;
        Guid id;
        using (var api = new HttpClient { BaseAddress = new Uri(baseUrl) })
        {
            id = await StudyApi.DefineAsync(api, StudyApi.TinySpec(widths: [2, 3], rates: [0.001, 0.01]));
            await StudyApi.WaitForStatusAsync(api, id, "Completed", TimeSpan.FromSeconds(90));
        }
        await using var session = await BrowserSession.StartAsync(baseUrl);
        var page = session.Page;
        await page.GotoAsync($"{baseUrl}/studies/{id}");
        await session.InteractiveAsync();
        await page.EvaluateAsync("() => window.__beforeRestart = true");

        // The Server goes away (an upgrade) and comes back on the same address, knowing nothing of the page's circuit.
        await first.DisposeAsync();
        await using var second = new LedgerApp(first.ConnectionString, [("Trainer:Replay", Recording)]);
        second.StartOnKestrel(port);

        // The page reconnects, is told its circuit is gone, and loads itself again: the study is back, alive.
        await page.WaitForFunctionAsync("() => window.__beforeRestart === undefined", null, new() { Timeout = 60_000 });
        await session.InteractiveAsync();
        (await page.Locator("#study-status").InnerTextAsync()).ShouldBe("Completed");
        (await page.Locator("#blazor-error-ui").IsVisibleAsync()).ShouldBeFalse();
    }

    /// <summary>The ledger's reads, with every fit's parameters lost.</summary>
    private sealed class BrokenFits(ILedgerQueries inner) : ILedgerQueries
    {
        public async Task<StudyView?> GetStudyAsync(Guid id, RecordedSequence? asOf = null, CancellationToken cancel = default)
        {
            var study = await inner.GetStudyAsync(id, asOf, cancel);
            if (study is null) return null;
            for (var i = 0; i < study.LatestFits.Count; i++) study.LatestFits[i] = study.LatestFits[i] with { Parameters = null! };
            return study;
        }

        public Task<IReadOnlyList<StudySummary>> ListStudiesAsync(int offset = 0, int limit = StudyPages.Default, CancellationToken cancel = default) =>
            inner.ListStudiesAsync(offset, limit, cancel);

        public Task<(StudySummaryView Study, TrialView Trial)?> GetTrialAsync(Guid studyId, Guid trialId, CancellationToken cancel = default) =>
            inner.GetTrialAsync(studyId, trialId, cancel);

        public Task<IReadOnlyList<ReplayEvent>> GetReplayEventsAsync(Guid id, LedgerPosition after = default, CancellationToken cancel = default) =>
            inner.GetReplayEventsAsync(id, after, cancel);

        public Task<IReadOnlyList<RefitTrouble>> GetRefitTroublesAsync(Guid id, CancellationToken cancel = default) =>
            inner.GetRefitTroublesAsync(id, cancel);

        public Task<(ComparisonView Comparison, IReadOnlyList<StudyView> Studies, IReadOnlyList<Guid> Missing)> CompareAsync(IReadOnlyList<Guid> ids,
            CancellationToken cancel = default) => inner.CompareAsync(ids, cancel);
    }
}
