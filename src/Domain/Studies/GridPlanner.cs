using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

public static class GridPlanner
{
    /// <summary>
    /// One trial per grid cell, ordered by ascending width (then learning rate, then seed) so that
    /// evidence arrives from small models to large ones.
    /// </summary>
    public static IReadOnlyList<PlannedTrial> Plan(StudySpec spec, Func<Guid> newId)
    {
        var cells =
            from w in spec.Model!.Widths!.Order()
            from lr in spec.Optimizer!.LearningRates!.Order()
            from s in spec.Seeds!.Order()
            select (w, lr, s);
        return cells.Select((c, i) => new PlannedTrial(newId(), i, c.w, c.lr, c.s)).ToList();
    }

    /// <summary>The spec as stored: defaults filled in (parameterization, target widths).</summary>
    public static StudySpec Normalize(StudySpec spec) => spec with
    {
        Name = spec.Name!.Trim(),
        Owner = spec.Owner!.Trim(),
        Model = spec.Model! with { Parameterization = spec.Model.Parameterization ?? "standard" },
        TargetWidths = spec.TargetWidths ?? [],
    };

    public static RunTrial ToCommand(Guid studyId, StudySpec spec, PlannedTrial trial, int attempt) => new(
        studyId, trial.TrialId, attempt, spec.Dataset!, spec.Model!.HiddenLayers, trial.Width,
        spec.Model.Parameterization ?? "standard", spec.Model.BaseWidth, trial.LearningRate, trial.Seed,
        spec.Steps, spec.BatchSize, spec.EvalEvery);
}
