using System.Text.Json.Nodes;
using ScalingLedger.Contracts;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A smaller version of the seed's 432-trial study of tiny MLPs (here 4 widths x 4 rates x 3 seeds = 48 trials, 20 steps,
/// a checkpoint every step), trained for real in the embedded default: the ledger keeps up (reports appended beside the
/// training, laws refitted beside the reports) and what it records is consistent. It prints the wall time against the sum
/// of the trials' training time; the full-size figure is in the README (measured, not asserted: the machines are shared).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TinyStudyScaleTests(PostgresFixture pg, ITestOutputHelper output)
{
    [Fact]
    public async Task a_study_of_tiny_mlps_with_a_checkpoint_every_step_completes_with_every_law_fitted_from_all_its_evidence()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var spec = StudyApi.TinySpec("tiny-48", widths: [2, 3, 4, 5], rates: [0.0003, 0.003, 0.03, 0.3], steps: 20);
        spec["seeds"] = new JsonArray(0, 1, 2);
        spec["evalEvery"] = 1;
        var id = await StudyApi.DefineAsync(client, spec);
        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromMinutes(3));

        var trials = study["trials"]!.AsArray();
        trials.Count.ShouldBe(48);
        trials.ShouldAllBe(t => t!["status"]!.GetValue<string>() == "Completed" || t["status"]!.GetValue<string>() == "Diverged");
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(LossCheckpointRecorded))
            .ShouldBe(trials.Sum(t => t!["checkpoints"]!.AsArray().Count));

        // Every law was fitted from the whole final evidence: the latest fits name every ended trial they may use.
        var fits = study["latestFits"]!.AsArray();
        fits.Select(f => f!["law"]!.GetValue<string>()).Distinct().ShouldBe(
            ["fixed-lr-loglinear", "fixed-lr-power", "optimal-lr", "optimal-lr-quadratic", "tuned-frontier-power", "width-lr-surface"], ignoreOrder: true);
        var optimal = fits.Single(f => f!["law"]!.GetValue<string>() == "optimal-lr")!;
        optimal["evidenceTrialIds"]!.AsArray().Count.ShouldBe(trials.Count);
        optimal["points"]!.AsArray().Count.ShouldBe(4);
        // Refits name their evidence by reference (the fit they follow), yet the history reassembles it whole.
        var history = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/fits");
        var recorded = events.Where(e => e!["type"]!.GetValue<string>() == nameof(LawFitted)).Select(e => e!["data"]!).ToList();
        recorded.Count(f => f["basedOnFitId"] is not null).ShouldBeGreaterThan(0);
        recorded.Where(f => f["basedOnFitId"] is not null).ShouldAllBe(f => f["evidenceTrialIds"]!.AsArray().Count == 0);
        var last = history.Last(h => h!["fit"]!["law"]!.GetValue<string>() == "optimal-lr")!["fit"]!;
        last["evidenceTrialIds"]!.AsArray().Select(n => n!.GetValue<Guid>()).Order()
            .ShouldBe(optimal["evidenceTrialIds"]!.AsArray().Select(n => n!.GetValue<Guid>()).Order());
        last["evidenceTrialIds"]!.AsArray().Count.ShouldBe(last["evidenceCount"]!.GetValue<int>());

        var wall = (study["endedAt"]!.GetValue<DateTimeOffset>() - study["definedAt"]!.GetValue<DateTimeOffset>()).TotalSeconds;
        var training = trials.Where(t => t!["durationSeconds"] is not null).Sum(t => t!["durationSeconds"]!.GetValue<double>());
        output.WriteLine($"48 tiny trials: wall {wall:F1} s, sum of completed trials' training {training:F1} s, {events.Count} events, {recorded.Count} fits");
    }
}
