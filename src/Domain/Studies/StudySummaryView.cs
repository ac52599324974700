using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

public enum StudyStatus { Running, Completed, Cancelled }

/// <summary>A fitted parameter with its 95% interval, where the bootstrap gave one.</summary>
public sealed record ParameterEstimate(double Value, double? Lower, double? Upper)
{
    /// <summary>A fit's parameter with its interval; null when the fit has no such parameter.</summary>
    public static ParameterEstimate? Of(LawFitted fit, string name) => fit.Parameters.TryGetValue(name, out var value)
        ? new ParameterEstimate(value, fit.Intervals?.GetValueOrDefault(name)?.Lower, fit.Intervals?.GetValueOrDefault(name)?.Upper)
        : null;
}

/// <summary>
/// One study's summary, a document of its own: identity, spec, status, times and counts. Small: it never holds trials,
/// checkpoints, fits, predictions or coordinate checks (each has documents of its own), so the appends that touch it
/// (every start and end) rewrite a few hundred bytes. Its fields are declared here once: the studies list
/// (<see cref="StudySummary"/>) and the assembled study (<see cref="StudyView"/>) are this record and more.
/// </summary>
public record StudySummaryView
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public string Owner { get; set; } = "";
    /// <summary>Users the owner let manage the study besides themselves (<see cref="ScalingLedger.Contracts.StudyAccessGranted"/>).</summary>
    public List<string> Managers { get; set; } = [];
    public ScalingLedger.Contracts.StudySpec? Spec { get; set; }
    /// <summary><c>trained</c> (a sweep this ledger runs) or <c>imported</c> (runs trained elsewhere, from a CSV).</summary>
    public string Source { get; set; } = "trained";
    public StudyStatus Status { get; set; }
    public DateTimeOffset DefinedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    public string? CancelledBy { get; set; }
    public int TrialCount { get; set; }
    /// <summary>The global sequence of the last event folded into this document (checkpoints are not folded here).</summary>
    public long LastSequence { get; set; }
    /// <summary>When the last event folded here was recorded, where the event says.</summary>
    public DateTimeOffset? LastActivityAt { get; set; }
    public int FitCount { get; set; }
    public int PredictionCount { get; set; }
    /// <summary>Coordinate checks asked for (capped per study: <see cref="CoordinateCheckLimits.MaxPerStudy"/>).</summary>
    public int CoordinateCheckCount { get; set; }
    /// <summary>The newest optimal-LR law's slope d (ln lr* = c + d ln h) and its 95% interval, for lists.</summary>
    public ParameterEstimate? OptimalLrSlope { get; set; }
    /// <summary>Where the study's events came from when they were brought from another ledger (each import, oldest first).</summary>
    public List<Ledger.ImportSeal> Imports { get; set; } = [];
    /// <summary>Each time widths were added to the study (<see cref="ScalingLedger.Contracts.StudyExtended"/>), oldest first.</summary>
    public List<StudyExtension> Extensions { get; set; } = [];
}

/// <summary>
/// One extension of a study as its summary keeps it: who, when, why, the seeds, how many trials it added, and each width's rates with
/// why each was chosen and the law's claim they came from (the planned trials are the trials' own documents).
/// </summary>
public sealed record StudyExtension(long Sequence, string By, DateTimeOffset At, string? Reason, IReadOnlyList<int> Seeds, int Trials,
    IReadOnlyList<ScalingLedger.Contracts.ExtendedWidth> Widths)
{
    /// <summary>Who extended the study, when, by how many trials and why, in one line (the page and the CLI say it so).</summary>
    public string Says() =>
        $"by {By} at {At.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)} UTC (event {Sequence}): " +
        $"{Trials} trials, seeds {string.Join(", ", Seeds)}" + (Reason is { } why ? $"; why: {why}" : "");

    /// <summary>The extension in a few words, for a table cell ("width 2048, 6 trials, by alice on 2026-12-07").</summary>
    public string Short() =>
        $"width {string.Join(", ", Widths.Select(w => w.Width))}, {Trials} trials, by {By} on " +
        At.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Each width's rates and why each, and the law's claim they came from, one line a width.</summary>
    public IEnumerable<string> WidthLines() => Widths.Select(WidthLine);

    /// <summary>One width an extension added: its rates and why each, and the law's claim they came from.</summary>
    public static string WidthLine(ScalingLedger.Contracts.ExtendedWidth w) =>
        $"width {w.Width}: {string.Join(", ", w.Rates.Select(r => $"{Numbers.Format(r.LearningRate)} ({r.Why})"))}; " +
        $"{w.Law} fit {w.FitId} put the best rate at {Numbers.Format(w.Predicted)} ({Numbers.Format(w.Lower)} to {Numbers.Format(w.Upper)}), " +
        $"rungs a factor {Numbers.Format(w.Ratio)} apart" + (w.Capped ? $", cut to {w.Rates.Count(r => r.Why != "fixed")} rates" : "");
}

/// <summary>One line of the studies list: the study's summary and its trials' counts by status.</summary>
public sealed record StudySummary : StudySummaryView
{
    public StudySummary() { }

    public StudySummary(StudySummaryView summary, IReadOnlyDictionary<TrialStatus, int> counts) : base(summary) =>
        TrialCounts = Enum.GetValues<TrialStatus>().ToDictionary(s => s, s => counts.GetValueOrDefault(s));

    public IReadOnlyDictionary<TrialStatus, int> TrialCounts { get; init; } = new Dictionary<TrialStatus, int>();

    /// <summary>How many of its trials have ended.</summary>
    public int EndedTrials() => TrialCounts.Where(c => TrialView.Ends(c.Key)).Sum(c => c.Value);
}

/// <summary>How many studies one page of the list holds: the list is paged, whatever the ledger holds.</summary>
public static class StudyPages
{
    public const int Default = 500;
    public const int Max = 1_000;
}
