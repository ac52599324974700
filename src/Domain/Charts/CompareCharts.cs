using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Charts;

/// <summary>Two or more studies overlaid: one colour per study. Pure.</summary>
public static class CompareCharts
{
    /// <summary>
    /// Each study's tuned frontier: its best loss per width, and the curve at the best rate of each of its credible loss laws
    /// (the frontier's power law, the surface's floor) with their 95% intervals at its targets.
    /// </summary>
    public static PlotChart Frontiers(IReadOnlyList<StudyView> studies, ComparisonView comparison, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var axis = Axis(studies);
        var set = new SeriesSet();
        for (var i = 0; i < studies.Count; i++)
        {
            var (study, color, name) = (studies[i], ChartStyle.Color(i), Label(studies[i]));
            var frontier = comparison.Studies.FirstOrDefault(c => c.Id == study.Id)?.Frontier ?? [];
            set.Points($"{name}: best per width", color, frontier.Select(p => (Math.Log10(p.Width), p.Loss)), 7);
            foreach (var (law, fit) in StudyCharts.CredibleFits(study, laws))
                foreach (var curve in law.Quantity == LawQuantity.Loss ? law.Curves(fit).Where(c => c.LearningRate is null) : [])
                {
                    set.Line($"{name}: {curve.Label}", color, axis.Curve(curve.At, 40), 2, laws.OrderOf(law.Name) % 2 == 0 ? 0 : 3);
                    set.Intervals($"{name}: {curve.Label} 95% at targets", color, StudyCharts.TargetIntervals(study, fit, null));
                }
        }
        return set.Chart(axis.XAxis("width (log scale)"), new ChartAxis("final eval loss at the best rate", Decimals: 3),
            "No study has a completed width yet.");
    }

    /// <summary>
    /// Each study's optimal learning rate per width and the best rate of each of its credible laws that says one, with the 95%
    /// intervals of its laws of the rate at its targets (log-log).
    /// </summary>
    public static PlotChart OptimalLr(IReadOnlyList<StudyView> studies, LawRegistry? laws = null)
    {
        laws ??= LawRegistry.Default;
        var axis = Axis(studies);
        var set = new SeriesSet();
        for (var i = 0; i < studies.Count; i++)
        {
            var (study, color, name) = (studies[i], ChartStyle.Color(i), Label(studies[i]));
            set.Points($"{name}: optimum per width", color, StudyCharts.RefinedOptima(study.Trials.Where(t => t.Width >= 1).ToList())
                .Where(o => o.RefinedLearningRate > 0).Select(o => (Math.Log10(o.Width), Math.Log10(o.RefinedLearningRate))), 7);
            foreach (var (law, fit) in StudyCharts.CredibleFits(study, laws))
            {
                if (law.OptimalRateAt(fit.Parameters, 1) is null) continue;
                var label = OptimalLrLaw.SlopeOf(fit.Parameters) is { } d ? $"{name}: {law.Name} d = {Numbers.Format(d)}" : $"{name}: {law.Name}";
                set.Line(label, color, axis.Curve(x => law.OptimalRateAt(fit.Parameters, x) is { } lr && lr > 0 ? Math.Log10(lr) : null, 40), 2,
                    law.Quantity == LawQuantity.LearningRate ? 5 : 2);
                if (law.Quantity == LawQuantity.LearningRate)
                    set.Intervals($"{name}: 95% at targets", color, StudyCharts.TargetIntervals(study, fit, null, v => v > 0 ? Math.Log10(v) : double.NaN));
            }
        }
        return set.Chart(axis.XAxis("width (log scale)"), new ChartAxis("optimal learning rate (log scale)", Log: true),
            "No study has its optimal-LR law yet.");
    }

    public static string Label(StudyView s) => $"{s.Name} ({s.Owner})";

    private static WidthAxis Axis(IReadOnlyList<StudyView> studies) =>
        WidthAxis.Of(studies.SelectMany(s => s.Trials.Where(t => t.Width >= 1).Select(t => (double)t.Width)
            .Concat(s.Spec?.TargetWidths?.Select(w => (double)w) ?? [])));
}
