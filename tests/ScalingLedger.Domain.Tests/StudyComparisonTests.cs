using CsCheck;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class StudyComparisonTests
{
    private static TrialView Trial(int width, double rate, int seed, TrialStatus status, double? loss = null) => new()
    {
        TrialId = Guid.NewGuid(), Width = width, LearningRate = rate, Seed = seed, Status = status, FinalEvalLoss = loss,
    };

    private static LawFitted Fit(string law, string key, Dictionary<string, double> parameters, Dictionary<string, ParameterInterval> intervals,
        bool converged = true) =>
        FitCredibilityTests.Good(law) with { Key = key, Parameters = parameters, Intervals = intervals, Converged = converged };

    /// <summary>
    /// researcher-a, standard: widths 32 and 64, rates 0.001 and 0.01, two seeds, all ended (one diverged at 32, 0.01).
    /// Its frontier and optimal-LR fits, and a fixed-LR fit the other study has not converged.
    /// </summary>
    private static StudyView Standard()
    {
        var spec = Specs.Demo() with
        {
            Name = "sp-vs-mup: standard",
            Owner = "researcher-a",
            Model = new ModelSpec("mlp", 3, [32, 64], "standard"),
            Optimizer = new OptimizerSpec("adam", [0.001, 0.01]),
            Seeds = [0, 1],
            TargetWidths = [2048],
        };
        return new StudyView
        {
            Id = Guid.NewGuid(), Name = spec.Name!, Owner = spec.Owner!, Spec = spec, Status = StudyStatus.Completed,
            Trials =
            [
                Trial(32, 0.001, 0, TrialStatus.Completed, 1.0), Trial(32, 0.001, 1, TrialStatus.Completed, 1.2),
                Trial(32, 0.01, 0, TrialStatus.Completed, 0.9), Trial(32, 0.01, 1, TrialStatus.Diverged),
                Trial(64, 0.001, 0, TrialStatus.Completed, 0.8), Trial(64, 0.001, 1, TrialStatus.Completed, 0.9),
                Trial(64, 0.01, 0, TrialStatus.Completed, 0.7), Trial(64, 0.01, 1, TrialStatus.Completed, 0.75),
            ],
            LatestFits =
            [
                Fit(FixedLrPowerLaw.LawName, "lr=0.001", new() { ["E"] = 0.5, ["A"] = 3, ["alpha"] = 0.4, ["learningRate"] = 0.001 },
                    new() { ["E"] = new(0.4, 0.6) }),
                Fit(TunedFrontierPowerLaw.LawName, "all", new() { ["E"] = 0.3, ["A"] = 2, ["alpha"] = 0.35 },
                    new() { ["E"] = new(0.25, 0.35), ["A"] = new(1.5, 2.5), ["alpha"] = new(0.3, 0.4) }),
                Fit(OptimalLrLaw.LawName, "all", new() { ["c"] = -2, ["d"] = -0.5 }, new() { ["c"] = new(-2.2, -1.8), ["d"] = new(-0.6, -0.4) }),
            ],
        };
    }

    /// <summary>
    /// researcher-b, muP (base width 32): widths 32 and 128, rates 0.001 and 0.003, one seed; a failed trial at (32, 0.003)
    /// and one still scheduled at (128, 0.003). Its frontier's E overlaps, its A has no interval, its alpha does not
    /// overlap; its optimal-LR fit is not credible and disagrees; its fixed-LR fit did not converge.
    /// </summary>
    private static StudyView Mup()
    {
        var spec = Specs.Demo() with
        {
            Name = "sp-vs-mup: mup",
            Owner = "researcher-b",
            Model = new ModelSpec("mlp", 3, [32, 128], "mup", 32),
            Optimizer = new OptimizerSpec("adam", [0.001, 0.003]),
            Seeds = [0],
            TargetWidths = [2048, 4096],
        };
        var optimalLr = Fit(OptimalLrLaw.LawName, "all", new() { ["c"] = -4, ["d"] = 0 }, new() { ["c"] = new(-4.2, -3.8), ["d"] = new(-0.1, 0.1) });
        return new StudyView
        {
            Id = Guid.NewGuid(), Name = spec.Name!, Owner = spec.Owner!, Spec = spec, Status = StudyStatus.Running,
            Trials =
            [
                Trial(32, 0.001, 0, TrialStatus.Completed, 1.05), Trial(32, 0.003, 0, TrialStatus.Failed),
                Trial(128, 0.001, 0, TrialStatus.Completed, 0.6), Trial(128, 0.003, 0, TrialStatus.Scheduled),
            ],
            LatestFits =
            [
                Fit(FixedLrPowerLaw.LawName, "lr=0.001", new() { ["learningRate"] = 0.001 }, [], converged: false),
                Fit(TunedFrontierPowerLaw.LawName, "all", new() { ["E"] = 0.32, ["A"] = 2.2, ["alpha"] = 0.6 },
                    new() { ["E"] = new(0.3, 0.4), ["alpha"] = new(0.5, 0.7) }),
                optimalLr,
            ],
            NotCredibleFits = [new FitCredibilityView { Id = optimalLr.FitId, Law = OptimalLrLaw.LawName, Key = "all", Reasons = ["made up"] }],
        };
    }

    [Fact]
    public void two_studies_compare_their_frontiers_laws_cells_and_specs()
    {
        var (a, b) = (Standard(), Mup());
        var comparison = StudyComparison.Compare([a, b]);

        comparison.Studies.Select(s => (s.Id, s.Name, s.Owner, s.Status, s.Trials, s.Ended)).ShouldBe(
        [
            (a.Id, "sp-vs-mup: standard", "researcher-a", StudyStatus.Completed, 8, 8),
            (b.Id, "sp-vs-mup: mup", "researcher-b", StudyStatus.Running, 4, 3),
        ]);
        // a: at 32 the rate 0.01 has a diverged seed, so 0.001 (mean 1.1) is the best with every seed completed; at 64, 0.01 (0.725).
        comparison.Studies[0].Frontier.ShouldBe([new FrontierPoint(32, 1.1, 0.001), new FrontierPoint(64, 0.725, 0.01)]);
        // b: the failed and the scheduled cells do not count.
        comparison.Studies[1].Frontier.ShouldBe([new FrontierPoint(32, 1.05, 0.001), new FrontierPoint(128, 0.6, 0.001)]);

        comparison.Laws.Select(l => (l.Law, l.Key, l.Parameter, l.Agree)).ShouldBe(
        [
            (TunedFrontierPowerLaw.LawName, "all", "E", (bool?)true),
            (TunedFrontierPowerLaw.LawName, "all", "A", null),
            (TunedFrontierPowerLaw.LawName, "all", "alpha", false),
            (OptimalLrLaw.LawName, "all", "c", false),
            (OptimalLrLaw.LawName, "all", "d", false),
        ]);
        comparison.Laws[0].PerStudy.ShouldBe([new ParameterEstimate(0.3, 0.25, 0.35), new ParameterEstimate(0.32, 0.3, 0.4)]);
        comparison.Laws[1].PerStudy.ShouldBe([new ParameterEstimate(2, 1.5, 2.5), new ParameterEstimate(2.2, null, null)]);
        comparison.Laws[4].PerStudy.ShouldBe([new ParameterEstimate(-0.5, -0.6, -0.4), new ParameterEstimate(0, -0.1, 0.1)]);
        comparison.Laws.Take(3).ShouldAllBe(l => l.Credible.SequenceEqual(new[] { true, true }));
        comparison.Laws.Skip(3).ShouldAllBe(l => l.Credible.SequenceEqual(new[] { true, false }));

        comparison.Cells.Select(c => (c.Width, c.LearningRate)).ShouldBe(
            [(32, 0.001), (32, 0.003), (32, 0.01), (64, 0.001), (64, 0.01), (128, 0.001), (128, 0.003)]);
        var none = new CellState(0, 0, 0, 0);
        comparison.Cells.Select(c => c.PerStudy).ShouldBe(
        [
            [new CellState(2, 2, 0, 0), new CellState(1, 1, 0, 0)],
            [none, new CellState(1, 0, 0, 1)],
            [new CellState(2, 1, 1, 0), none],
            [new CellState(2, 2, 0, 0), none],
            [new CellState(2, 2, 0, 0), none],
            [none, new CellState(1, 1, 0, 0)],
            [none, new CellState(1, 0, 0, 0)],
        ]);

        comparison.SpecDifferences.Select(d => (d.Field, string.Join(" | ", d.PerStudy))).ShouldBe(
        [
            ("parameterization", "standard | mup"),
            ("baseWidth", " | 32"),
            ("widths", "32, 64 | 32, 128"),
            ("learningRates", "0.001, 0.01 | 0.001, 0.003"),
            ("seeds", "0, 1 | 0"),
            ("targetWidths", "2048 | 2048, 4096"),
        ]);
    }

    [Fact]
    public void a_study_alone_has_no_laws_to_compare_and_no_spec_differences()
    {
        var comparison = StudyComparison.Compare([Standard()]);
        comparison.Laws.ShouldBeEmpty();
        comparison.SpecDifferences.ShouldBeEmpty();
        comparison.Cells.Count.ShouldBe(4);
        var empty = StudyComparison.Compare([]);
        (empty.Studies.Count, empty.Laws.Count, empty.Cells.Count, empty.SpecDifferences.Count).ShouldBe((0, 0, 0, 0));
    }

    [Fact]
    public void estimates_agree_exactly_when_every_pair_of_intervals_overlaps() =>
        Gen.Select(Gen.Double[-1, 1].Array[3], Gen.Double[0, 1].Array[3]).Sample((centres, halfWidths) =>
        {
            var intervals = centres.Select((c, i) => new ParameterInterval(c - halfWidths[i], c + halfWidths[i])).ToList();
            var studies = intervals.Select((interval, i) =>
            {
                return Standard() with { LatestFits = [Fit(OptimalLrLaw.LawName, "all", new() { ["d"] = centres[i] }, new() { ["d"] = interval })] };
            }).ToList();
            var pairwise = (from x in intervals from y in intervals select x.Lower <= y.Upper && y.Lower <= x.Upper).All(o => o);
            StudyComparison.Compare(studies).Laws.Single().Agree.ShouldBe(pairwise);
        });
}
