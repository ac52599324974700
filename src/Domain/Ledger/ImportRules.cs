using ScalingLedger.Contracts;
using ScalingLedger.Domain.Imports;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Ledger;

/// <summary>One event of a study brought from another ledger, as read from its export.</summary>
public sealed record ImportedEvent(long Version, object Data, string? User);

/// <summary>The ids an import brings that key documents of the ledger: each must be new to the ledger.</summary>
public sealed record ImportedIds(IReadOnlyList<Guid> Trials, IReadOnlyList<Guid> Fits, IReadOnlyList<Guid> Predictions, IReadOnlyList<Guid> Checks);

/// <summary>
/// What a study brought from another ledger must hold before any of it is stored: the same input rules as the events this
/// ledger records itself (the spec's rules, a trainer's report rules against the trial as folded so far, the text rules for
/// every name, user and reason, bounded lists), and an import confined to its own study: one study throughout, every trial,
/// fit, prediction and check named once, and every reference (a report's trial, a fit's evidence and base, a prediction's fit,
/// a resolution's prediction, a check's result) to something of this same study. Whether its ids are new to the ledger is
/// the Server's to ask (<see cref="IdsOf"/>); nothing here reads the ledger.
/// </summary>
public static class ImportRules
{
    /// <summary>The most problems one refusal names (the rest are counted).</summary>
    public const int MaxProblems = 20;

    /// <summary>A law's, key's or method's name; a form may be longer (it is a formula).</summary>
    private const int MaxFormLength = 1_000;

    /// <summary>Entries of a fit's lists (points, claims, out-of-sample misses): a study's widest evidence, many times over.</summary>
    private const int MaxFitEntries = 100_000;

    private const int MaxParameters = 64;

    public static ImportedIds IdsOf(IEnumerable<object> events)
    {
        List<Guid> trials = [], fits = [], predictions = [], checks = [];
        foreach (var data in events)
            switch (data)
            {
                case StudyDefined e: trials.AddRange(e.Trials.Select(t => t.TrialId)); break;
                case StudyImported e: trials.AddRange(e.Runs.Select(r => r.TrialId)); break;
                case StudyExtended e: trials.AddRange(e.Trials.Select(t => t.TrialId)); break;
                case LawFitted e: fits.Add(e.FitId); break;
                case PredictionIssued e: predictions.Add(e.PredictionId); break;
                case CoordinateCheckRequested e: checks.Add(e.CheckId); break;
                case CoordinateCheckRecorded e: checks.Add(e.CheckId); break;
                case CoordinateCheckFailed e: checks.Add(e.CheckId); break;
            }
        return new ImportedIds(trials.Distinct().ToList(), fits, predictions, checks.Distinct().ToList());
    }

    /// <summary>What is wrong with the events of study <paramref name="studyId"/>, in version order (empty: nothing).</summary>
    public static IReadOnlyList<string> Problems(Guid studyId, IReadOnlyList<ImportedEvent> events)
    {
        var problems = new List<string>();
        var state = new State();
        foreach (var e in events)
        {
            if (problems.Count >= MaxProblems) break;
            var at = $"Event {e.Version} ({e.Data.GetType().Name})";
            if (e.Data is not IStudyEvent about || about.StudyId != studyId)
            {
                problems.Add($"{at}: it is about another study than {studyId}.");
                continue;
            }
            if (e.Version == 1 && e.Data is not (StudyDefined or StudyImported))
            {
                problems.Add($"{at}: a study's first event defines or imports it.");
                continue;
            }
            if (e.Version > 1 && e.Data is StudyDefined or StudyImported)
            {
                problems.Add($"{at}: a study is defined or imported once, by its first event.");
                continue;
            }
            var problem = TextRules.Problem("its user", e.User, optional: true) ?? state.Problem(e.Data);
            if (problem is null) state.Apply(e.Data);
            else
            {
                problems.Add($"{at}: {problem}.");
                if (e.Version == 1) break; // nothing after a study that cannot begin can be held to it
            }
        }
        return problems;
    }

    /// <summary>The study as folded so far (what the live rules read), and the ids seen.</summary>
    private sealed class State
    {
        private StudySummaryView? summary;
        private readonly Dictionary<Guid, TrialView> trials = [];
        private readonly HashSet<Guid> fits = [];
        private readonly HashSet<Guid> predictions = [];
        private readonly Dictionary<Guid, CoordinateCheckView> checks = [];

        public void Apply(object data)
        {
            summary = StudyProjection.ApplySummary(summary, data, RecordedSequence.Start);
            // Checkpoints change nothing the rules read (a trial's status and attempt), and folding curves costs a sort each.
            if (data is not LossCheckpointRecorded)
                foreach (var trialId in StudyProjection.TrialIdsOf(data))
                    if (StudyProjection.ApplyTrial(trials.GetValueOrDefault(trialId), trialId, data, RecordedSequence.Start) is { } trial)
                        trials[trialId] = trial;
            switch (data)
            {
                case LawFitted e: fits.Add(e.FitId); break;
                case PredictionIssued e: predictions.Add(e.PredictionId); break;
            }
            if (StudyProjection.CoordinateCheckIdOf(data) is { } checkId
                && StudyProjection.ApplyCoordinateCheck(checks.GetValueOrDefault(checkId), data, RecordedSequence.Start) is { } check)
                checks[checkId] = check;
        }

        public string? Problem(object data) => data switch
        {
            StudyDefined e => Defined(e),
            StudyImported e => Imported(e),
            TrialAttemptFailed e => Trial(e.TrialId) ?? Join(
                e.Attempt is < 1 or > StudyDecisions.MaxAttempts ? $"attempt {e.Attempt}: attempts are 1 to {StudyDecisions.MaxAttempts}" : null,
                Text("error", e.Error, ReportValidation.MaxReasonLength), Text("detail", e.Detail, ReportValidation.MaxDetailLength, optional: true)),
            ITrialReport e => Trial(e.TrialId) ?? ReportValidation.Shape(e) ?? ReportValidation.AgainstTrial(e, summary, trials[e.TrialId]),
            LawFitted e => Fitted(e),
            PredictionIssued e => Join(
                predictions.Contains(e.PredictionId) ? $"prediction {e.PredictionId} is issued twice" : null,
                fits.Contains(e.FitId) ? null : $"it names fit {e.FitId}, which the study's events before it do not hold",
                Name("law", e.Law), Name("key", e.Key), Name("reason", e.Reason), Name("fitterVersion", e.FitterVersion),
                Trials("its evidence", e.EvidenceTrialIds)),
            PredictionResolved e => Join(
                predictions.Contains(e.PredictionId) ? null : $"it resolves prediction {e.PredictionId}, which the study's events before it do not issue",
                Text("note", e.Note, ReportValidation.MaxReasonLength, optional: true), Trials("its observed trials", e.ObservedTrialIds),
                Censoring(e)),
            CoordinateCheckRequested e => Join(
                checks.ContainsKey(e.CheckId) ? $"coordinate check {e.CheckId} is asked for twice" : null,
                e.Widths is null || e.Widths.Count > CoordinateCheckLimits.MaxWidths ? $"at most {CoordinateCheckLimits.MaxWidths} widths" : null,
                e.Steps is < 0 or > CoordinateCheckLimits.MaxSteps ? $"steps {e.Steps}: 0 to {CoordinateCheckLimits.MaxSteps}" : null,
                Name("requestedBy", e.RequestedBy)),
            CoordinateCheckRecorded or CoordinateCheckFailed => ReportValidation.Shape(data) ?? CheckResult((IStudyEvent)data),
            StudyAccessGranted e => Join(Name("user", e.User), Name("grantedBy", e.GrantedBy),
                e.Permission is StudyAccessGranted.Manage or StudyAccessGranted.None ? null : $"permission '{e.Permission}' is not manage or none"),
            StudyCancelled e => Join(Name("cancelledBy", e.CancelledBy), Text("reason", e.Reason, TextRules.MaxShort, optional: true)),
            StudyCompleted => null,
            StudyExtended e => Extended(e),
            StudyEventsImported e => Join(Name("importedBy", e.ImportedBy), Name("format", e.Format), Text("originName", e.OriginName, optional: true),
                e.Events < 1 ? "it imported no event" : null),
            _ => $"this ledger does not take {data.GetType().Name} from an import",
        };

        private string? Defined(StudyDefined e)
        {
            var spec = SpecValidation.Validate(e.Spec);
            if (spec.Count > 0) return $"its spec is invalid: {string.Join(" ", spec.SelectMany(f => f.Value).Take(3))}";
            if (Name("definedBy", e.DefinedBy) is { } by) return by;
            if (e.Trials is not { Count: > 0 and <= SpecValidation.MaxTrials }) return $"a study plans 1 to {SpecValidation.MaxTrials:N0} trials";
            if (Distinct(e.Trials.Select(t => t.TrialId)) is { } twice) return twice;
            var (widths, rates, seeds) = (e.Spec.Model!.Widths!, e.Spec.Optimizer!.LearningRates!, e.Spec.Seeds!);
            return e.Trials.FirstOrDefault(t => t is null || !widths.Contains(t.Width) || !rates.Contains(t.LearningRate) || !seeds.Contains(t.Seed))
                is { } outside
                ? $"planned trial {outside?.TrialId} is not a cell of its spec's grid"
                : null;
        }

        /// <summary>The rules of a live extension (<see cref="ExtensionPlan.Validate"/>), and its trials new, of its widths, rates and seeds.</summary>
        private string? Extended(StudyExtended e)
        {
            if (summary?.Spec is not { } spec || summary.Source != "trained") return "only a study defined with a spec can be extended";
            if (summary.Status == StudyStatus.Cancelled) return "the study was cancelled before it: a cancelled study stays stopped";
            if (Name("extendedBy", e.ExtendedBy) is { } by) return by;
            if (e.Widths is null || e.Seeds is null || e.Trials is null) return "it names no widths, seeds or trials";
            var request = new ExtensionRequest(e.Widths.Select(w => w?.Width ?? 0).ToList(), e.Seeds, null, e.Reason);
            if (ExtensionPlan.Validate(request, spec) is { Count: > 0 } invalid)
                return $"it is not an extension this ledger would make: {string.Join(" ", invalid.SelectMany(f => f.Value).Take(3))}";
            foreach (var w in e.Widths)
            {
                if (Name("law", w.Law) is { } law) return law;
                if (!fits.Contains(w.FitId)) return $"width {w.Width} names fit {w.FitId}, which the study's events before it do not hold";
                if (!new[] { w.Predicted, w.Lower, w.Upper, w.Ratio }.All(v => double.IsFinite(v) && v > 0) || w.Rungs < 0)
                    return $"width {w.Width}'s claim and ladder are not finite positive numbers";
                if (w.Rates is not { Count: > 0 and <= ExtensionPlan.MaxLadder + ExtensionPlan.MaxFixedRates }
                    || w.Rates.Any(r => r is null || !(r.LearningRate > 0 && r.LearningRate <= ExtensionPlan.MaxRate)
                                        || r.Why is not (ExtendedRate.Ladder or ExtendedRate.Fixed or ExtendedRate.Both)))
                    return $"width {w.Width} has no rates, too many, or a rate that is not a positive number at most {ExtensionPlan.MaxRate} chosen " +
                           "as ladder, fixed or ladder+fixed";
            }
            if (e.Trials.Count == 0 || summary.TrialCount + (long)e.Trials.Count > SpecValidation.MaxTrials)
                return $"an extension plans at least one trial, and a study at most {SpecValidation.MaxTrials:N0}";
            if (Distinct(e.Trials.Select(t => t?.TrialId ?? Guid.Empty)) is { } twice) return twice;
            if (e.Trials.FirstOrDefault(t => trials.ContainsKey(t.TrialId)) is { } again) return $"trial {again.TrialId} is the study's already";
            var after = trials.Count == 0 ? -1 : trials.Values.Max(t => t.Order);
            if (e.Trials.FirstOrDefault(t => t.Order <= after) is { } early) return $"trial {early.TrialId}'s order {early.Order} is not after the study's own";
            var checkpoints = (summary.TrialCount + (long)e.Trials.Count) * SpecValidation.CheckpointsPerTrial(spec.Steps, spec.EvalEvery);
            if (checkpoints > SpecValidation.MaxStudyCheckpoints)
                return $"the study would record {checkpoints:N0} checkpoints; at most {SpecValidation.MaxStudyCheckpoints:N0}";
            return e.Trials.FirstOrDefault(t => !e.Seeds.Contains(t.Seed) || e.Widths.FirstOrDefault(w => w.Width == t.Width) is not { } width
                                                || !width.Rates.Any(r => r.LearningRate == t.LearningRate))
                is { } outside
                ? $"planned trial {outside.TrialId} is not a (width, rate, seed) the extension chose"
                : null;
        }

        private static string? Imported(StudyImported e)
        {
            if (Join(Name("name", e.Name), Name("owner", e.Owner), Name("importedBy", e.ImportedBy)) is { } text) return text;
            if (e.Runs is not { Count: > 0 and <= RunCsv.MaxRows }) return $"an imported study holds 1 to {RunCsv.MaxRows:N0} runs";
            if (e.Columns is null || e.Columns.Count > 64 || e.Columns.Select(c => Name("a column", c)).FirstOrDefault(p => p is not null) is { })
                return "its columns are not short names";
            if (Distinct(e.Runs.Select(r => r.TrialId)) is { } twice) return twice;
            return e.Runs.FirstOrDefault(r => r is null || !double.IsFinite(r.Loss) || r.Loss < 0 || (r.Width is not > 0 && r.Params is not > 0)
                                              || r.Params is { } p && !(p > 0 && double.IsFinite(p)) || r.Tokens is { } t && !(t > 0 && double.IsFinite(t)))
                is { } bad
                ? $"run {bad?.TrialId} has no size or a loss that is not a finite, non-negative number"
                : null;
        }

        private string? Fitted(LawFitted e)
        {
            if (fits.Contains(e.FitId)) return $"fit {e.FitId} is recorded twice";
            return Join(
                Name("law", e.Law), Name("key", e.Key), Name("method", e.Method), Name("fitterVersion", e.FitterVersion),
                Text("form", e.Form, MaxFormLength), Text("message", e.Message, ReportValidation.MaxReasonLength, optional: true),
                e.Parameters is null || e.Parameters.Count > MaxParameters ? $"at most {MaxParameters} parameters" : null,
                e.Parameters?.Keys.Select(k => Name("a parameter's name", k)).FirstOrDefault(p => p is not null),
                e.Intervals is { Count: > MaxParameters } ? $"at most {MaxParameters} intervals" : null,
                e.Intervals?.Keys.Select(k => Name("an interval's name", k)).FirstOrDefault(p => p is not null),
                (e.Points?.Count ?? 0) > MaxFitEntries || (e.Predictions?.Count ?? 0) > MaxFitEntries || (e.OutOfSample?.Count ?? 0) > MaxFitEntries
                    ? $"a fit's points, claims and misses are at most {MaxFitEntries:N0} each"
                    : null,
                e.BasedOnFitId is { } basedOn && !fits.Contains(basedOn) ? $"it follows fit {basedOn}, which the study's events before it do not hold" : null,
                Trials("its evidence", e.EvidenceTrialIds), Trials("its evidence added", e.EvidenceAdded), Trials("its evidence removed", e.EvidenceRemoved));
        }

        private string? CheckResult(IStudyEvent result)
        {
            var checkId = StudyProjection.CoordinateCheckIdOf(result)!.Value;
            if (!checks.TryGetValue(checkId, out var check)) return null; // recorded before checks were asked for: nothing to hold it to
            if (check.Status != CoordinateCheckStatus.Requested) return $"coordinate check {checkId} has its result already";
            return ReportValidation.AgainstCheck(result, summary, check, checkId);
        }

        /// <summary>A trial of this study the events before it planned or imported, or why not.</summary>
        private string? Trial(Guid trialId) =>
            trials.ContainsKey(trialId) ? null : $"it is about trial {trialId}, which is not one of the study's trials";

        private string? Trials(string what, IReadOnlyList<Guid>? ids)
        {
            if (ids is null) return null;
            if (ids.Count > SpecValidation.MaxTrials) return $"{what} names {ids.Count:N0} trials: a study has at most {SpecValidation.MaxTrials:N0}";
            foreach (var id in ids)
                if (!trials.ContainsKey(id)) return $"{what} names trial {id}, which is not one of the study's trials";
            return null;
        }

        private static string? Distinct(IEnumerable<Guid> ids)
        {
            var seen = new HashSet<Guid>();
            foreach (var id in ids)
                if (id == Guid.Empty || !seen.Add(id)) return $"trial id {id} is empty or given twice";
            return null;
        }
    }

    private static string? Name(string field, string? value) => TextRules.Problem(field, value);

    private static string? Text(string field, string? value, int max = TextRules.MaxShort, bool optional = false) =>
        TextRules.Problem(field, value, max, optional, multiline: true);

    /// <summary>A censored resolution's bounds: finite, above zero, and in order.</summary>
    private static string? Censoring(PredictionResolved e) =>
        new[] { ("observedAtLeast", e.ObservedAtLeast), ("observedAtMost", e.ObservedAtMost) }
            .Where(b => b.Item2 is { } v && !(double.IsFinite(v) && v > 0)).Select(b => $"{b.Item1} {b.Item2} is not a finite number above 0")
            .Append(e is { ObservedAtLeast: { } l, ObservedAtMost: { } m } && l > m ? $"observedAtLeast {l} is above observedAtMost {m}" : null)
            .FirstOrDefault(m => m is not null);

    private static string? Join(params string?[] problems) => problems.FirstOrDefault(p => p is not null);
}
