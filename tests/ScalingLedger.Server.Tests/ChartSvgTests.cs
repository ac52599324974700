using System.Xml.Linq;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Charts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web.Components.Charts;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// A chart's first paint (the SVG in the prerendered page, before ApexCharts draws) shows the same chart as the interactive
/// one, is well-formed, and shows every name as text.
/// </summary>
public class ChartSvgTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void loss_against_rate_draws_a_line_per_width_through_each_rate_and_a_marker_per_optimum()
    {
        var trials = new List<(int, double, TrialStatus, double)>();
        foreach (var width in new[] { 8, 16, 32 })
            foreach (var (rate, loss) in new[] { (0.001, 1.0), (0.01, 0.8), (0.1, 0.9), (1.0, 1.2) })
                trials.Add((width, rate, TrialStatus.Completed, loss - width / 1000.0));
        var svg = Parse(StudyCharts.LossVsRate(StudyChartsTests.Study(trials)));
        var lines = svg.Descendants(Svg + "polyline").ToList();
        lines.Count.ShouldBe(3);
        lines.ShouldAllBe(l => l.Attribute("points")!.Value.Trim().Split(' ', StringSplitOptions.None).Length == 4);
        // Each width's optimum is bracketed (0.01 between 0.001 and 0.1): one diamond each, in one path.
        var optima = svg.Descendants(Svg + "path").Where(p => p.Attribute("fill")!.Value == "#111827").ToList();
        optima.Single().Attribute("d")!.Value.Count(c => c == 'M').ShouldBe(3);
        Texts(svg).ShouldContain("width 16");
        Texts(svg).ShouldContain("learning rate (log scale)");
        // The log axis reads as rates: its ticks are 10^x.
        Texts(svg).ShouldContain("0.001");
        Texts(svg).ShouldContain("1");
    }

    [Fact]
    public void the_heatmap_draws_a_cell_per_width_and_rate_and_labels_cells_without_a_loss_by_name()
    {
        var study = StudyChartsTests.Study([
            (8, 0.001, TrialStatus.Completed, 1.0), (8, 0.01, TrialStatus.Diverged, double.NaN),
            (16, 0.001, TrialStatus.Failed, double.NaN), (16, 0.01, TrialStatus.Completed, 0.75)]);
        var svg = Parse(StudyCharts.Heatmap(study));
        var texts = Texts(svg);
        // Four cells and the colour scale's legend (three named codes and six shades).
        svg.Descendants(Svg + "rect").Count().ShouldBe(4 + 3 + 6);
        texts.ShouldContain("div");
        texts.ShouldContain("fail");
        texts.ShouldContain("1.000");
        texts.ShouldContain("0.750");
        texts.ShouldContain("width 8");
    }

    [Fact]
    public void a_name_is_shown_as_text_never_as_markup()
    {
        var chart = new PlotChart([new ChartSeries("<img src=x onerror=alert(1)>", SeriesKind.Line, "\"><script>alert(2)</script>",
            [new ChartPoint(1, 2), new ChartPoint(2, 3)], StrokeWidth: 2)], new ChartAxis("<b>x</b>"), new ChartAxis("y"), "none", 300);
        var markup = ChartSvg.Draw(chart);
        markup.ShouldNotContain("<img");
        markup.ShouldNotContain("<script");
        var svg = XDocument.Parse(markup).Root!;
        Texts(svg).ShouldContain("<img src=x onerror=alert(1)>");
        Texts(svg).ShouldContain("<b>x</b>");
        // A colour that is not one is drawn grey, not written into the attribute.
        svg.Descendants(Svg + "polyline").Single().Attribute("stroke")!.Value.ShouldBe("#98a2b3");
    }

    [Fact]
    public void a_chart_with_nothing_to_draw_says_so_in_words()
    {
        var svg = Parse(StudyCharts.OptimalLr(StudyChartsTests.Study([])));
        Texts(svg).ShouldBe(["No width has its optimum bracketed yet."]);
    }

    [Theory]
    [InlineData(2.1072099696478683, "128")]
    [InlineData(-3, "0.001")]
    [InlineData(0.5, "3.2")]
    [InlineData(3.0102999566398121, "1024")]
    [InlineData(15, "1e15")]
    public void a_log_axis_label_reads_as_the_browser_writes_it(double log10, string label) => ChartStyle.Pow10(log10).ShouldBe(label);

    private static XElement Parse(Chart chart) => XDocument.Parse(ChartSvg.Draw(chart)).Root!;

    private static List<string> Texts(XElement svg) => svg.Descendants(Svg + "text").Select(t => t.Value).ToList();
}
