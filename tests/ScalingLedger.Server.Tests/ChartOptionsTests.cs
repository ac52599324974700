using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Web.Components.Charts;

namespace ScalingLedger.Server.Tests;

/// <summary>The chart options are pure: what they hold must serialise (JSON has no NaN or infinity).</summary>
public class ChartOptionsTests
{
    [Fact]
    public void runs_imported_without_a_width_stay_off_the_width_chart()
    {
        var imported = new StudyImported(Guid.NewGuid(), "params only", "tester",
            [new ImportedRun(Guid.NewGuid(), 0, 2, null, 1e9, 2e10, null, null, 2.5),
             new ImportedRun(Guid.NewGuid(), 1, 3, null, 4e9, 8e10, null, null, 2.2)], ["params", "tokens", "loss"], "tester", DateTimeOffset.UtcNow);
        var view = StudyProjection.Fold([(imported, 1L)]);
        var json = ChartOptions.Serialize(ChartOptions.LossVsWidth(view));
        json.ShouldNotContain("Infinity");
    }

    [Fact]
    public void a_coordinate_check_with_a_width_cut_short_still_draws()
    {
        var check = new CoordinateCheckRecorded(Guid.NewGuid(), Guid.NewGuid(), "standard", null, 100, 3, ["hidden0", "output"],
            [new CoordinateCheckWidth(64, [[1.0, 2.0], [3.0, 4.0]]), new CoordinateCheckWidth(1024, [])], DateTimeOffset.UtcNow);
        Should.NotThrow(() => ChartOptions.Serialize(ChartOptions.CoordinateCheck(check)));
    }
}
