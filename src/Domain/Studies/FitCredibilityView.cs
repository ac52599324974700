using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Studies;

/// <summary>
/// One fit's credibility (<see cref="CredibilityRule"/>), judged once when the fit is recorded and stored as a document of
/// its own keyed by the fit's id: pages and the API read it, and never judge again. A study lists the fits that are not
/// credible, and their predictions are set aside.
/// </summary>
public sealed class FitCredibilityView
{
    /// <summary>The fit's <see cref="ScalingLedger.Contracts.LawFitted.FitId"/>.</summary>
    public Guid Id { get; set; }
    public Guid StudyId { get; set; }
    public string Law { get; set; } = "";
    public string Key { get; set; } = "";
    /// <summary>The global sequence of the LawFitted event.</summary>
    public long Sequence { get; set; }
    public bool Credible { get; set; }
    /// <summary>Why not, each a sentence naming its numbers; empty when credible.</summary>
    public List<string> Reasons { get; set; } = [];
    /// <summary>The <see cref="CredibilityRule.Version"/> that judged it.</summary>
    public string RuleVersion { get; set; } = CredibilityRule.Version;
}
