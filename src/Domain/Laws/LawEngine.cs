using System.Globalization;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Laws;

/// <summary>A fit before it is recorded: everything of <see cref="LawFitted"/> but identity, sequence and time.</summary>
public sealed record FitResult(
    string Law,
    string Key,
    string Form,
    IReadOnlyDictionary<string, double> Parameters,
    bool Converged,
    string? Message,
    double? RSquared,
    IReadOnlyList<FitPoint> Points,
    IReadOnlyList<Guid> EvidenceTrialIds,
    string Method);

public static class LawNames
{
    public const string FixedLrLogLinear = "fixed-lr-loglinear";
    public const string OptimalLr = "optimal-lr";
}

/// <summary>Fits every law a study's evidence supports. Deterministic: the same trials give the same fits.</summary>
public static class LawEngine
{
    public const string FitterVersion = "1.0.0";

    public static IReadOnlyList<FitResult> FitAll(StudyView study)
    {
        var fits = new List<FitResult>();
        fits.AddRange(FixedLrLogLinear(study.Trials));
        if (OptimalLr(study.Trials) is { } lr) fits.Add(lr);
        return fits;
    }

    /// <summary><c>L(h) = a + b ln h</c> per learning rate, over the mean final eval loss of completed trials at each width.</summary>
    public static IEnumerable<FitResult> FixedLrLogLinear(IEnumerable<TrialView> trials)
    {
        foreach (var byLr in trials.GroupBy(t => t.LearningRate).OrderBy(g => g.Key))
        {
            var completed = byLr.Where(t => t.Status == TrialStatus.Completed && t.FinalEvalLoss is { } l && double.IsFinite(l))
                .OrderBy(t => t.Order).ToList();
            var points = completed.GroupBy(t => t.Width).OrderBy(g => g.Key)
                .Select(g => new FitPoint(g.Key, g.Average(t => t.FinalEvalLoss!.Value))).ToList();
            if (points.Count < 2) continue;
            var diverged = byLr.Count(t => t.Status == TrialStatus.Diverged);
            var line = LinearLaw.FitLogX(points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
            var key = "lr=" + byLr.Key.ToString("R", CultureInfo.InvariantCulture);
            var message = diverged > 0 ? $"{diverged} diverged trial(s) at this learning rate are not on the curve." : null;
            yield return line is null
                ? new FitResult(LawNames.FixedLrLogLinear, key, "L(h) = a + b ln h", new Dictionary<string, double>(), false,
                    "The points do not determine a line.", null, points, completed.Select(t => t.TrialId).ToList(), "ols")
                : new FitResult(LawNames.FixedLrLogLinear, key, "L(h) = a + b ln h",
                    new Dictionary<string, double> { ["a"] = line.Intercept, ["b"] = line.Slope, ["learningRate"] = byLr.Key },
                    true, message, line.RSquared, points, completed.Select(t => t.TrialId).ToList(), "ols");
        }
    }

    /// <summary><c>ln lr*(h) = c + d ln h</c> over the grid argmin learning rate of each fully finished width.</summary>
    public static FitResult? OptimalLr(IEnumerable<TrialView> trials)
    {
        var optima = OptimalLearningRate.PerWidth(trials);
        if (optima.Count < 2) return null;
        var points = optima.Select(o => new FitPoint(o.Width, o.LearningRate)).ToList();
        var evidence = optima.SelectMany(o => o.EvidenceTrialIds).ToList();
        var edges = optima.Where(o => o.AtGridEdge).Select(o => o.Width).ToList();
        var message = edges.Count > 0
            ? $"The best rate is at the edge of the grid for width(s) {string.Join(", ", edges)}: the optimum may lie outside the grid."
            : null;
        var line = LinearLaw.FitLogLog(points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
        return line is null
            ? new FitResult(LawNames.OptimalLr, "all", "ln lr*(h) = c + d ln h", new Dictionary<string, double>(), false,
                "The points do not determine a line.", null, points, evidence, "grid-argmin+ols")
            : new FitResult(LawNames.OptimalLr, "all", "ln lr*(h) = c + d ln h",
                new Dictionary<string, double> { ["c"] = line.Intercept, ["d"] = line.Slope }, true, message, line.RSquared,
                points, evidence, "grid-argmin+ols");
    }

    /// <summary>
    /// The fits whose evidence differs from the study's latest fit of the same law and key: refitting the same
    /// evidence records nothing new.
    /// </summary>
    public static IReadOnlyList<FitResult> NewFits(StudyView study) =>
        FitAll(study).Where(f =>
        {
            var latest = study.LatestFits.Find(l => l.Law == f.Law && l.Key == f.Key);
            return latest is null || !latest.EvidenceTrialIds.Order().SequenceEqual(f.EvidenceTrialIds.Order())
                || !latest.Points.SequenceEqual(f.Points);
        }).ToList();

    public static LawFitted ToEvent(Guid studyId, FitResult f, Guid fitId, long evidenceSequence, DateTimeOffset now) => new(
        studyId, fitId, f.Law, f.Key, f.Form, f.Parameters, f.Converged, f.Message, f.RSquared, f.Points,
        f.EvidenceTrialIds, evidenceSequence, f.Method, FitterVersion, now);
}
