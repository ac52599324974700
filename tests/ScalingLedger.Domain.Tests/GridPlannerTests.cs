using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class GridPlannerTests
{
    [Fact]
    public void plans_one_trial_per_cell_in_ascending_width_order()
    {
        var plan = GridPlanner.Plan(Specs.Demo(), Guid.NewGuid);
        plan.Count.ShouldBe(3 * 2 * 2);
        plan.Select(t => t.Width).ShouldBe([32, 32, 32, 32, 128, 128, 128, 128, 512, 512, 512, 512]);
        plan.Select(t => t.Order).ShouldBe(Enumerable.Range(0, 12));
        plan.Select(t => (t.Width, t.LearningRate, t.Seed)).Distinct().Count().ShouldBe(12);
        plan.Take(4).Select(t => (t.LearningRate, t.Seed)).ShouldBe([(0.001, 0), (0.001, 1), (0.01, 0), (0.01, 1)]);
    }

    [Fact]
    public void normalizing_fills_defaults()
    {
        var spec = GridPlanner.Normalize(Specs.Demo() with { Model = new("mlp", 3, [32], null), TargetWidths = null, Name = " x " });
        spec.Model!.Parameterization.ShouldBe("standard");
        spec.TargetWidths.ShouldBeEmpty();
        spec.Name.ShouldBe("x");
    }
}
