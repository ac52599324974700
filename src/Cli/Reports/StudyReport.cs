using System.Text;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Charts;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Cli.Reports;

/// <summary>
/// A study as files for a paper or a wiki: the four panels, the belief history of each law that predicted and the slope of
/// the optimal learning rate, and the calibration, each as PNG and SVG, drawn from the same chart definitions the site uses
/// (<see cref="StudyCharts"/>); and <c>README.md</c>, with the laws, their intervals, the predictions and the images.
/// </summary>
public static class StudyReport
{
    public sealed record Image(string Name, string Title, string Png, string Svg);

    public static IReadOnlyList<Image> Write(StudyView study, IReadOnlyList<RecordedFit> fits, long? asOf, string directory)
    {
        Directory.CreateDirectory(directory);
        var images = new List<Image>();
        void Add(string name, string title, Chart chart)
        {
            var (png, svg) = ChartImage.Save(chart, title, directory, name);
            images.Add(new Image(name, title, png, svg));
        }
        Add("a-loss-vs-width", "(a) Final loss against width, per learning rate", StudyCharts.LossVsWidth(study));
        Add("b-loss-vs-rate", "(b) Final loss against learning rate, per width", StudyCharts.LossVsRate(study));
        Add("c-heatmap", "(c) Final loss, learning rate x width", StudyCharts.Heatmap(study));
        Add("d-optimal-lr", "(d) Optimal learning rate against width", StudyCharts.OptimalLr(study));
        var optimalLr = fits.Where(f => f.Fit.Law == OptimalLrLaw.LawName && f.Sequence <= (asOf ?? long.MaxValue))
            .Select(f => (f.Fit, new RecordedSequence(f.Sequence))).ToList(); // /fits gives where the study's history places each fit
        var history = BeliefHistory.Build(study.Trials, study.Predictions, optimalLr, study.NotCredibleFits.Select(f => f.Id).ToHashSet());
        foreach (var (law, key) in history.Predictions.Select(s => (s.Law, s.Key)).Distinct())
            Add($"belief-{FileName(law)}-{FileName(key)}", $"What {law} ({key}) predicted as evidence arrived", StudyCharts.BeliefHistory(history, law, key));
        Add("belief-optimal-lr-slope", "The optimal-LR slope d as evidence arrived", StudyCharts.SlopeHistory(history));
        Add("calibration", "Calibration: observed against predicted", StudyCharts.Calibration(study));
        File.WriteAllText(Path.Combine(directory, "README.md"), Markdown(study, asOf, images));
        return images;
    }

    /// <summary>The summary to paste: the study, its laws with intervals, calibration, predictions and the images.</summary>
    public static string Markdown(StudyView study, long? asOf, IReadOnlyList<Image> images)
    {
        var md = new StringBuilder();
        md.AppendLine($"# {Cell(study.Name)}").AppendLine();
        md.AppendLine($"Study `{study.Id}`, {study.Source}, owner {Cell(study.Owner)}, {study.Status.ToString().ToLowerInvariant()}" +
                      (asOf is { } s ? $", as of event sequence {s}" : "") + $": {study.TrialCount} trials (" +
                      string.Join(", ", study.Trials.GroupBy(t => t.Status).OrderBy(g => g.Key)
                          .Select(g => $"{g.Count()} {g.Key.ToString().ToLowerInvariant()}")) +
                      $"), {study.FitCount} fits, {study.PredictionCount} predictions.").AppendLine();
        if (study.Spec is { Model: { } model, Optimizer: { } optimizer } spec)
            md.AppendLine($"Widths {string.Join(", ", model.Widths ?? [])}; learning rates " +
                          $"{string.Join(", ", (optimizer.LearningRates ?? []).Select(r => Numbers.Format(r)))}; " +
                          $"seeds {string.Join(", ", spec.Seeds ?? [])}; " +
                          $"{spec.Steps} steps of batch {spec.BatchSize}; target widths {string.Join(", ", spec.TargetWidths ?? [])}.").AppendLine();
        md.AppendLine("## Laws").AppendLine();
        var laws = LawLines.Of(study);
        if (laws.Count == 0) md.AppendLine("No law is fitted yet.").AppendLine();
        else
        {
            md.AppendLine("| law | key | form | parameters (95% bootstrap interval) | R² | credible | at the target widths (95% interval) |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var l in laws)
                md.AppendLine($"| {Cell(l.Law)} | {Cell(l.Key)} | {Cell(l.Form)} | {Cell(l.Parameters)} | {Numbers.Fixed(l.RSquared, 3)} | " +
                              $"{(l.Credible ? "yes" : Cell("no: " + (l.Doubts ?? "did not converge")))} | {Cell(l.Targets)} |");
            md.AppendLine();
        }
        md.AppendLine("## Calibration").AppendLine();
        if (study.Calibration.Count == 0) md.AppendLine("No credible prediction has resolved yet.").AppendLine();
        else
        {
            md.AppendLine("| law | resolved | inside its 95% interval | share (95% interval) | mean \\|z\\| |").AppendLine("|---|---|---|---|---|");
            foreach (var c in study.Calibration)
                md.AppendLine($"| {Cell(c.Law)} | {c.Resolved} | {c.Inside} | {Numbers.Fixed(c.ShareInside, 2)} {Numbers.Interval(c.Lower, c.Upper, 2)} | " +
                              $"{Numbers.Fixed(c.MeanAbsZ, 2)} |");
            md.AppendLine();
        }
        md.AppendLine("## Predictions").AppendLine();
        var predictions = study.CrediblePredictions.OrderBy(p => p.IssuedSequence).ToList();
        if (predictions.Count == 0) md.AppendLine("No credible prediction yet.").AppendLine();
        else
        {
            md.AppendLine("| law | key | width | predicted (95% interval) | observed | verdict | audit |").AppendLine("|---|---|---|---|---|---|---|");
            foreach (var p in predictions.TakeLast(200))
                md.AppendLine($"| {Cell(p.Issued.Law)} | {Cell(p.Issued.Key)} | {Numbers.Width(p.Issued.Width)} | {Numbers.Format(p.Issued.Predicted)} " +
                              $"{Numbers.Interval(p.Issued.Lower, p.Issued.Upper)} | " +
                              $"{(p.Resolution is { } r ? PredictionResolution.ObservedText(r, v => Numbers.Format(v)) : "–")} | " +
                              $"{(p.Resolution is null ? "open" : p.Resolution.Inside ? "inside" : "**outside**")} | `/api/predictions/{p.Id}` |");
            if (predictions.Count > 200) md.AppendLine().AppendLine($"The last 200 of {predictions.Count} predictions; `ledger status --json` has them all.");
            md.AppendLine();
        }
        md.AppendLine("## Figures").AppendLine();
        foreach (var image in images)
            md.AppendLine($"### {Cell(image.Title)}").AppendLine()
                .AppendLine($"![{Cell(image.Title)}]({image.Name}.png) ([SVG]({image.Name}.svg))").AppendLine();
        return md.ToString();
    }

    /// <summary>Text in a markdown table cell: pipes and line breaks escaped, markup characters left as text.</summary>
    private static string Cell(string text) =>
        text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("<", "&lt;").Replace(">", "&gt;").Replace("[", "\\[").Replace("]", "\\]")
            .ReplaceLineEndings(" ");

    private static string FileName(string text) => new(text.Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-').ToArray());
}
