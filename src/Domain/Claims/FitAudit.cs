using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Claims;

/// <summary>The outcome of re-deriving a recorded fit from exactly the evidence it saw.</summary>
/// <param name="Verified">The re-derived fit has the recorded evidence, parameters, intervals and predictions, bit for bit.</param>
/// <param name="Differences">What differs, when anything does.</param>
/// <param name="Note">Said alongside the verdict: a fit recorded by another fitter version, re-derived with this one.</param>
public sealed record FitVerification(bool Verified, IReadOnlyList<string> Differences, string? Note = null);

public static class FitAudit
{
    /// <summary>
    /// Refits the audited law as the study was at the fit's evidence sequence (<paramref name="atEvidence"/>: the study
    /// folded from its events up to that sequence) and compares the result with the recorded fit, whose
    /// <see cref="LawFitted.EvidenceTrialIds"/> must be its whole evidence (as the study's laws view keeps it).
    /// </summary>
    public static FitVerification Verify(StudyView atEvidence, LawFitted recorded)
    {
        var differences = new List<string>();
        // A fit is re-derived with the method of the fitter version that made it, where this ledger still runs it; another
        // version is not a difference in itself: what counts is whether the numbers are reproduced.
        var supported = LawEngine.SupportedFitterVersions.Contains(recorded.FitterVersion);
        var note = recorded.FitterVersion == LawEngine.FitterVersion ? null
            : supported ? $"recorded with fitter {recorded.FitterVersion}; re-derived with that version's method by fitter {LawEngine.FitterVersion}"
            : $"recorded with fitter {recorded.FitterVersion}, which this ledger no longer runs; re-derived with fitter {LawEngine.FitterVersion}";
        // Claimed where the study's widths were then and wherever the fit itself claims: a fit recorded as a study was extended
        // (StudyExtended, in the same transaction) claims at the new widths too, from evidence that ends before them.
        var predictAt = LawEngine.DefaultWidths(atEvidence.Trials, atEvidence.Spec)
            .Concat((recorded.Predictions ?? []).Select(p => p.X)).Where(x => x > 0).Distinct().Order().ToList();
        var options = new FitOptions(Fitter: supported ? recorded.FitterVersion : null, PredictAt: predictAt);
        if (atEvidence.LastSequence != recorded.EvidenceSequence)
            differences.Add($"the evidence ends at sequence {atEvidence.LastSequence}, the fit saw {recorded.EvidenceSequence}");
        // Only the audited law is refitted, not the whole study.
        var rederived = LawEngine.Fit(atEvidence.Trials, atEvidence.Spec, recorded.Law, recorded.Key, options);
        if (rederived is null)
        {
            differences.Add($"the evidence no longer supports a {recorded.Law} fit for {recorded.Key}");
            return new FitVerification(false, differences, note);
        }

        if (!rederived.EvidenceTrialIds.Order().SequenceEqual(recorded.EvidenceTrialIds.Order()))
            differences.Add("the evidence trials differ");
        if (rederived.Converged != recorded.Converged) differences.Add($"converged: recorded {recorded.Converged}, re-derived {rederived.Converged}");
        Compare("parameter", recorded.Parameters, rederived.Parameters, differences);
        Compare("interval", recorded.Intervals ?? new Dictionary<string, ParameterInterval>(),
            rederived.Intervals ?? new Dictionary<string, ParameterInterval>(), differences);
        if (!(recorded.Predictions ?? []).SequenceEqual(rederived.Predictions ?? []))
            differences.Add("the predictions differ");
        if (!recorded.Points.SequenceEqual(rederived.Points)) differences.Add("the fitted points differ");
        return new FitVerification(differences.Count == 0, differences, note);
    }

    private static void Compare<T>(string what, IReadOnlyDictionary<string, T> recorded, IReadOnlyDictionary<string, T> rederived, List<string> differences)
    {
        foreach (var name in recorded.Keys.Union(rederived.Keys).Order(StringComparer.Ordinal))
        {
            var has = recorded.TryGetValue(name, out var a);
            var hasToo = rederived.TryGetValue(name, out var b);
            if (!has || !hasToo || !EqualityComparer<T>.Default.Equals(a, b))
                differences.Add($"{what} {name}: recorded {(has ? a : "none")}, re-derived {(hasToo ? b : "none")}");
        }
    }
}
