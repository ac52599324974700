using ScalingLedger.Contracts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Fitting;

namespace ScalingLedger.Domain.Laws;

/// <summary>How a study's laws are fitted.</summary>
/// <param name="PredictAt">Widths to predict at; null: the study's widths and target widths.</param>
/// <param name="Fitter">The fitter version whose method to use (null: this one, <see cref="LawEngine.FitterVersion"/>); an audit
/// re-derives a fit with the method of the version that recorded it (see <see cref="LawEngine.SupportedFitterVersions"/>).</param>
/// <param name="Laws">The laws to fit (null: <see cref="LawRegistry.Default"/>).</param>
public sealed record FitOptions(BootstrapOptions? Bootstrap = null, OptimiserOptions? Optimiser = null, IReadOnlyList<double>? PredictAt = null,
    string? Fitter = null, LawRegistry? Laws = null)
{
    /// <summary>2.0.0 took a width's optimum even when a rate beside it had no result (2.1.0 leaves such widths out).</summary>
    public bool ExcludesHoles => Fitter != "2.0.0";

    /// <summary>
    /// Before 2.2.0 a width whose best rate is at the edge of the grid kept its optimum (flagged in the message); since, it
    /// is left out of the laws over optima: an optimum at the edge is a bound (the best rate is at least, or at most, the
    /// grid's last rate), not a value.
    /// </summary>
    public bool ExcludesEdges => Fitter is not ("2.0.0" or "2.1.0");

    /// <summary>
    /// From 3.0.0 a prediction's interval is calibrated (see <see cref="PredictionIntervals"/>): the bootstrap's interval
    /// widened by what the bootstrap cannot see, measured out of sample in the study; before, it was the bootstrap's.
    /// </summary>
    public bool Calibrates => Fitter is not ("2.0.0" or "2.1.0" or "2.2.0");

    /// <summary>
    /// From 3.1.0 a calibrated interval knows the observation's own noise (<see cref="Law.ObservationSpread"/>), as a weak prior
    /// on the law's misses and as a floor, and its Student's t counts the sub-fits that missed, not their misses (the misses of
    /// one sub-fit at several wider widths share its error); see <see cref="PredictionIntervals"/>.
    /// </summary>
    public bool FloorsIntervals => Calibrates && Fitter is not "3.0.0";

    /// <summary>2.0.0 retried a bootstrap resample that did not converge from the full fit from the whole start grid.</summary>
    public bool BootstrapRetriesStartGrid => Fitter == "2.0.0";

    public LawRegistry Registry => Laws ?? LawRegistry.Default;

    public BootstrapOptions BootstrapOrDefault => Bootstrap ?? new BootstrapOptions();

    public OptimiserOptions OptimiserOrDefault => Optimiser ?? new OptimiserOptions();
}
