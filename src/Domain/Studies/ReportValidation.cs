using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// What a trainer may report. Everything that crosses from a trainer is checked before it joins a group to be appended: a
/// report that fails is refused alone (logged with the reason, acknowledged, never appended), so the reports grouped with it
/// commit first time and nothing a trainer sends can make the ledger hold a value it cannot store or read back (a NaN or an
/// infinity, a NUL in a string, an unbounded list) or a curve that is not its trial's.
/// <para>
/// <see cref="Shape"/> needs nothing but the report (sizes, numbers, strings: a 100,000-checkpoint message is refused before
/// anything is read); <see cref="AgainstTrial"/> needs the trial it claims to be about and its study's spec (a known study
/// and trial, an attempt the ledger sent, steps within the spec, a start before anything else).
/// </para>
/// </summary>
public static class ReportValidation
{
    /// <summary>The most checkpoints one message may carry: a trial has at most <see cref="SpecValidation.MaxCheckpoints"/>, and its last step.</summary>
    public const int MaxCheckpointsPerMessage = SpecValidation.MaxCheckpoints + 1;

    /// <summary>Names and hosts: short strings.</summary>
    public const int MaxNameLength = 200;

    /// <summary>Versions (a build's informational version carries its commit and more: 231 characters seen on this machine).</summary>
    public const int MaxVersionLength = 1_000;

    /// <summary>An error's first line and a divergence's reason.</summary>
    public const int MaxReasonLength = 2_000;

    /// <summary>A failure's whole exception (the trainer cuts it there too).</summary>
    public const int MaxDetailLength = 33_000;

    public const int MaxDatasetFiles = 16;

    /// <summary>
    /// The largest report message, in bytes, refused before it is read (a trial's whole curve is some 160 KB, the
    /// largest coordinate check some 2 MB): a message of 100,000 checkpoints is refused at once, not parsed first.
    /// </summary>
    public const int MaxMessageBytes = 4 * 1024 * 1024;

    /// <summary>What is wrong with the report itself, or null when nothing is.</summary>
    public static string? Shape(object report) => report switch
    {
        LossCheckpointsRecorded b => b.Checkpoints is null ? "the checkpoints are missing"
            : b.Checkpoints.Count > MaxCheckpointsPerMessage ? $"{b.Checkpoints.Count} checkpoints in one message: at most {MaxCheckpointsPerMessage}"
            : b.Checkpoints.Count == 0 ? "no checkpoint in the message"
            : b.Checkpoints.Any(c => c is null) ? "a checkpoint is missing"
            : b.Checkpoints.FirstOrDefault(c => c.StudyId != b.StudyId || c.TrialId != b.TrialId) is { } other
                ? $"a checkpoint of trial {other.TrialId} in a message about trial {b.TrialId}"
            : b.Checkpoints.Select(Checkpoint).FirstOrDefault(p => p is not null),
        LossCheckpointRecorded c => Checkpoint(c),
        TrialStarted s => Join(
            s.Attempt < 1 || s.Attempt > StudyDecisions.MaxAttempts ? $"attempt {s.Attempt}: attempts are 1 to {StudyDecisions.MaxAttempts}" : null,
            s.Threads < 0 ? $"threads {s.Threads} is negative" : null,
            Text("workerId", s.WorkerId, MaxNameLength), Text("hostName", s.HostName, MaxNameLength),
            Text("torchSharpVersion", s.TorchSharpVersion, MaxVersionLength),
            Text("libTorchVersion", s.LibTorchVersion, MaxVersionLength, optional: true),
            Text("codeVersion", s.CodeVersion, MaxVersionLength, optional: true),
            s.DatasetSha256 is { Count: > MaxDatasetFiles } files ? $"{files.Count} dataset files: at most {MaxDatasetFiles}" : null,
            s.DatasetSha256?.Select(f => Text("a dataset file", f.Key, MaxNameLength)
                    ?? (f.Value is { Length: 64 } hash && hash.All(char.IsAsciiHexDigit) ? null : $"the hash of {f.Key} is not a SHA-256 (64 hex digits)"))
                .FirstOrDefault(p => p is not null)),
        TrialCompleted c => Join(
            Loss("finalEvalLoss", c.FinalEvalLoss), Share("finalEvalAccuracy", c.FinalEvalAccuracy),
            c.ParameterCount < 0 ? $"parameterCount {c.ParameterCount} is negative" : null,
            !(c.DurationSeconds >= 0 && double.IsFinite(c.DurationSeconds)) ? $"durationSeconds {c.DurationSeconds} is not a duration" : null),
        TrialDiverged d => Join(d.Step < 0 ? $"step {d.Step} is negative" : null, Text("reason", d.Reason, MaxReasonLength)),
        TrialFailed f => Join(
            f.Attempt is < 1 or > StudyDecisions.MaxAttempts ? $"attempt {f.Attempt}: attempts are 1 to {StudyDecisions.MaxAttempts}" : null,
            Text("error", f.Error, MaxReasonLength), Text("detail", f.Detail, MaxDetailLength, optional: true)),
        TrialCancelled c => c.AtStep < 0 ? $"atStep {c.AtStep} is negative" : null,
        TrialAttemptFailed => "a failed attempt is the Server's to record, never a trainer's",
        CoordinateCheckRecorded c => CoordinateCheck(c),
        CoordinateCheckFailed f => Text("error", f.Error, MaxReasonLength),
        TrialHeartbeat h => Text("workerId", h.WorkerId, MaxNameLength),
        _ => $"{report.GetType().Name} is not a report",
    };

    /// <summary>
    /// What is wrong with a report about a trial given that trial (null when the ledger has no such trial of the study) and its
    /// study's summary (null when there is no such study), or null when nothing is.
    /// </summary>
    public static string? AgainstTrial(object report, StudySummaryView? study, TrialView? trial)
    {
        var (studyId, trialId) = report switch
        {
            ITrialReport about => (about.StudyId, about.TrialId),
            LossCheckpointsRecorded batch => (batch.StudyId, batch.TrialId),
            _ => (Guid.Empty, Guid.Empty),
        };
        if (trialId == Guid.Empty) return null;
        if (study is null || study.Id != studyId) return $"no study {studyId}";
        if (trial is null || trial.StudyId != studyId || trial.TrialId != trialId) return $"no trial {trialId} in study {studyId}";
        var steps = study.Spec?.Steps ?? int.MaxValue;
        string? Step(int step) => step < 1 || step > steps ? $"step {step} is outside the trial's 1 to {steps}" : null;
        var started = trial.Status != TrialStatus.Scheduled || trial.Attempt > 0;
        return report switch
        {
            // The attempt the ledger sent is the one after the trial's latest: an older one is stale (decided as nothing).
            // A start that names its run is recorded as the next attempt whatever it says (TrialRuns).
            TrialStarted s when s.RunId is null && s.Attempt > trial.Attempt + 1 => $"attempt {s.Attempt}: the ledger sent attempt {trial.Attempt + 1}",
            LossCheckpointRecorded c => started ? Step(c.Step) : "a checkpoint of a trial whose start was never recorded",
            LossCheckpointsRecorded b => started ? b.Checkpoints.Select(c => Step(c.Step)).FirstOrDefault(p => p is not null)
                : "checkpoints of a trial whose start was never recorded",
            TrialCompleted when !started => "an end of a trial whose start was never recorded",
            TrialDiverged d when !started => "an end of a trial whose start was never recorded",
            TrialDiverged d when d.Step > steps => $"step {d.Step} is beyond the trial's {steps}",
            // A trainer can fail an attempt before it starts (its data unreadable): the one the ledger sent, at most.
            TrialFailed f when f.Attempt is { } a && a > trial.Attempt + 1 => $"attempt {a}: the ledger sent attempt {trial.Attempt + 1}",
            TrialCancelled c when c.AtStep > steps => $"atStep {c.AtStep} is beyond the trial's {steps}",
            _ => null,
        };
    }

    /// <summary>What is wrong with a coordinate check's result or failure given the check's document, or null.</summary>
    public static string? AgainstCheck(IStudyEvent result, StudySummaryView? study, CoordinateCheckView? check, Guid checkId) =>
        study is null || study.Id != result.StudyId ? $"no study {result.StudyId}"
        : check is null || check.StudyId != result.StudyId ? $"no coordinate check {checkId} was asked for in study {result.StudyId}"
        : result is CoordinateCheckRecorded recorded && check.Request is { } asked
            && !recorded.Widths.Select(w => w.Width).Order().SequenceEqual(asked.Widths.Order())
            ? "the result's widths are not the widths asked for"
        : null;

    private static string? Checkpoint(LossCheckpointRecorded c) => Join(
        c.Step < 1 ? $"step {c.Step} is not a step" : null,
        Loss("trainLoss", c.TrainLoss), Loss("evalLoss", c.EvalLoss), Share("evalAccuracy", c.EvalAccuracy));

    private static string? CoordinateCheck(CoordinateCheckRecorded c)
    {
        if (c.Layers is null || c.Widths is null) return "the layers or widths are missing";
        if (c.Layers.Count > SpecValidation.MaxHiddenLayers + 1) return $"{c.Layers.Count} layers: at most {SpecValidation.MaxHiddenLayers + 1}";
        if (c.Widths.Count > CoordinateCheckLimits.MaxWidths) return $"{c.Widths.Count} widths: at most {CoordinateCheckLimits.MaxWidths}";
        if (c.Steps is < 0 or > CoordinateCheckLimits.MaxSteps) return $"steps {c.Steps}: 0 to {CoordinateCheckLimits.MaxSteps}";
        if (c.Layers.Select(l => Text("a layer name", l, MaxNameLength)).FirstOrDefault(p => p is not null) is { } layer) return layer;
        if (Text("parameterization", c.Parameterization, MaxNameLength) is { } p) return p;
        foreach (var w in c.Widths)
        {
            if (w?.MeanAbsActivation is not { } rows) return "a width's activations are missing";
            if (rows.Count > c.Steps + 1) return $"width {w.Width}: {rows.Count} rows of activations for {c.Steps} steps";
            foreach (var row in rows)
                if (row is null || row.Count != c.Layers.Count) return $"width {w.Width}: a row of activations does not have one value per layer";
                else if (row.Any(v => !(v >= 0) || !double.IsFinite(v))) return $"width {w.Width}: an activation is not a finite, non-negative number";
        }
        return null;
    }

    private static string? Loss(string name, double value) =>
        double.IsFinite(value) && value >= 0 ? null : $"{name} {value} is not a finite, non-negative loss";

    private static string? Share(string name, double value) =>
        value is >= 0 and <= 1 ? null : $"{name} {value} is not a share between 0 and 1";

    /// <summary>A string the ledger can store: present (unless optional), bounded, free of NUL and broken surrogates.</summary>
    private static string? Text(string name, string? value, int max, bool optional = false) =>
        TextRules.Problem(name, value, max, optional, multiline: true);

    private static string? Join(params string?[] problems) => problems.FirstOrDefault(p => p is not null);
}
