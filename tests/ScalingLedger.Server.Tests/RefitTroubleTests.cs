using System.Diagnostics;
using Marten;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Reactors;
using ScalingLedger.Server.Studies;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A refit that fails (a fault in the science, injected here: everything else is the real Server on a real database) is
/// kept, shown on the study page, and tried again with a backoff until it succeeds; the study then completes.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class RefitTroubleTests(PostgresFixture pg, ITestOutputHelper output)
{
    /// <summary>The real refitter, whose quick laws fail the first <see cref="Faults"/> times they are refitted.</summary>
    private sealed class FaultyRefitter(IDocumentStore store, StudyWriter writer, TimeProvider clock, IOptions<LedgerOptions> options,
        ILogger<StudyRefitter> log) : StudyRefitter(store, writer, clock, options, log)
    {
        public const int Faults = 2;
        private int calls;

        /// <summary>Whether the refit that succeeded after the faults was the retry's (not the reactor's next page).</summary>
        public bool HealedByRetry { get; private set; }

        public override async Task<IReadOnlyList<object>> RefitAsync(Guid studyId, RefitCost cost, CancellationToken cancel)
        {
            if (cost == RefitCost.Quick)
            {
                var call = Interlocked.Increment(ref calls);
                if (call <= Faults) throw new ArithmeticException($"injected fault {call}: the design matrix is singular");
                if (call == Faults + 1) HealedByRetry = new StackTrace().ToString().Contains(nameof(RefitRetries), StringComparison.Ordinal);
            }
            return await base.RefitAsync(studyId, cost, cancel);
        }
    }

    [Fact]
    public async Task a_failing_refit_shows_on_the_study_page_and_is_tried_again_until_it_succeeds()
    {
        await using var app = await pg.NewLedgerAsync(s => s.Replace(ServiceDescriptor.Singleton<StudyRefitter, FaultyRefitter>()),
            ("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec("refit-fault", widths: [8, 16, 32, 64], rates: [0.001, 0.01], steps: 30));
        var trials = (await StudyApi.GetAsync(client, $"/api/studies/{id}"))["trials"]!.AsArray().Select(t => t!).ToList();
        var bus = app.Services.GetRequiredService<IBus>();
        var now = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        foreach (var trial in trials)
        {
            var trialId = trial["trialId"]!.GetValue<Guid>();
            var width = trial["width"]!.GetValue<int>();
            var loss = 2.0 * Math.Pow(width, -0.3) * (1 + Math.Abs(Math.Log10(trial["learningRate"]!.GetValue<double>() / 0.003)));
            var run = Guid.NewGuid();
            object[] reports =
            [
                new TrialStarted(id, trialId, 1, "w", "h", 1, "0.107", now) with { RunId = run },
                new LossCheckpointsRecorded(id, trialId,
                [
                    new LossCheckpointRecorded(id, trialId, 10, loss * 1.5, loss * 1.5, 0.5, now),
                    new LossCheckpointRecorded(id, trialId, 30, loss, loss, 0.7, now),
                ]),
                new TrialCompleted(id, trialId, loss, 0.7, 100 * width, 1, now),
            ];
            foreach (var report in reports) await bus.Publish(report, report.GetType(), c => c.Headers.Set(ReportHeaders.Run, run));
        }

        // The trouble is kept and the page says so (the error only to admins: this ledger's local user is one).
        await using (var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession())
        {
            RefitTrouble? trouble = null;
            while (trouble is null)
            {
                clock.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(60), "no refit trouble was kept");
                await Task.Delay(100);
                trouble = await session.LoadAsync<RefitTrouble>(RefitTrouble.IdOf(id, RefitCost.Quick));
            }
            trouble.Error.ShouldStartWith("ArithmeticException: injected fault");
            output.WriteLine($"trouble kept {clock.Elapsed.TotalSeconds:F1} s after the reports: {trouble.Failures} failure(s), " +
                $"retry at {trouble.RetryAt:HH:mm:ss}");
        }
        var page = await client.GetStringAsync($"/studies/{id}");
        page.ShouldContain("id=\"refit-trouble-quick\"");
        page.ShouldContain("could not be refitted");
        page.ShouldContain("injected fault");
        app.Logs.Messages.ShouldContain(m => m.StartsWith("Refitting study", StringComparison.Ordinal) && m.Contains("failed, 1 time(s) in a row"));

        // It heals by itself: tried again after 5 s (and 10 s), and the study completes with its laws.
        var done = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromSeconds(90));
        output.WriteLine($"study completed {clock.Elapsed.TotalSeconds:F1} s after the reports");
        done["latestFits"]!.AsArray().Select(f => f!["law"]!.GetValue<string>()).ShouldContain("fixed-lr-loglinear");
        ((FaultyRefitter)app.Services.GetRequiredService<StudyRefitter>()).HealedByRetry.ShouldBeTrue("the refit after the faults was not the retry's");
        await using (var session = app.Services.GetRequiredService<IDocumentStore>().QuerySession())
            (await session.Query<RefitTrouble>().CountAsync()).ShouldBe(0);
        (await client.GetStringAsync($"/studies/{id}")).ShouldNotContain("could not be refitted");
    }
}
