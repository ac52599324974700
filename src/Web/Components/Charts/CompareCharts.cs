using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Web.Components.Charts;

/// <summary>Two or more studies overlaid: one colour per study. Pure.</summary>
public static class CompareCharts
{
    /// <summary>Each study's tuned frontier: its best loss per width, its frontier law and the law's 95% intervals at its targets.</summary>
    public static object Frontiers(IReadOnlyList<StudyView> studies, ComparisonView comparison)
    {
        var axis = WidthAxis.Of(studies.SelectMany(s => s.Trials.Where(t => t.Width >= 1).Select(t => (double)t.Width)
            .Concat(s.Spec?.TargetWidths?.Select(w => (double)w) ?? [])));
        var set = new SeriesSet();
        for (var i = 0; i < studies.Count; i++)
        {
            var (study, color, name) = (studies[i], ChartOptions.Color(i), Label(studies[i]));
            var frontier = comparison.Studies.FirstOrDefault(c => c.Id == study.Id)?.Frontier ?? [];
            set.Points($"{name}: best per width", color, frontier.Select(p => (Math.Log10(p.Width), p.Loss)), 7);
            if (StudyCharts.CredibleFit(study, LawNames.TunedFrontierPower, "all") is { } fit)
            {
                set.Line($"{name}: frontier law", color, axis.Curve(x => LawRegistry.TunedFrontierPower.Evaluate(fit.Parameters, x), 40), 2);
                set.Intervals($"{name}: 95% at targets", color, StudyCharts.TargetIntervals(study, fit));
            }
        }
        return StudyCharts.Mixed(set, axis.XAxis("width (log scale)"), new { title = new { text = "final eval loss at the best rate" } },
            new { logX = true, xName = "width", yDecimals = 3 }, "No study has a completed width yet.");
    }

    /// <summary>Each study's optimal learning rate per width and its optimal-LR law with 95% intervals at its targets (log-log).</summary>
    public static object OptimalLr(IReadOnlyList<StudyView> studies)
    {
        var axis = WidthAxis.Of(studies.SelectMany(s => s.Trials.Where(t => t.Width >= 1).Select(t => (double)t.Width)
            .Concat(s.Spec?.TargetWidths?.Select(w => (double)w) ?? [])));
        var set = new SeriesSet();
        for (var i = 0; i < studies.Count; i++)
        {
            var (study, color, name) = (studies[i], ChartOptions.Color(i), Label(studies[i]));
            if (study.LatestFits.Find(f => f.Law == LawNames.OptimalLr) is not { } fit) continue;
            set.Points($"{name}: optimum per width", color, fit.Points.Where(p => p.X > 0 && p.Y > 0).Select(p => (Math.Log10(p.X), Math.Log10(p.Y))), 7);
            if (StudyCharts.CredibleFit(study, LawNames.OptimalLr, "all") is { } law)
            {
                set.Line($"{name}: d = {ChartOptions.Format(law.Parameters.GetValueOrDefault("d"))}", color,
                    axis.Curve(x => LawRegistry.OptimalLr.Evaluate(law.Parameters, x) is { } lr && lr > 0 ? Math.Log10(lr) : null, 2), 2, 5);
                set.Intervals($"{name}: 95% at targets", color, StudyCharts.TargetIntervals(study, law, v => v > 0 ? Math.Log10(v) : double.NaN));
            }
        }
        return StudyCharts.Mixed(set, axis.XAxis("width (log scale)"), new { title = new { text = "optimal learning rate (log scale)" } },
            new { logX = true, logY = true, xName = "width" }, "No study has its optimal-LR law yet.");
    }

    public static string Label(StudyView s) => $"{s.Name} ({s.Owner})";
}
