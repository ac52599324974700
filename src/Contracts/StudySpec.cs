namespace ScalingLedger.Contracts;

/// <summary>A sweep definition as submitted to <c>POST /api/studies</c> (camelCase JSON).</summary>
public sealed record StudySpec(
    string? Name,
    string? Owner,
    string? Dataset,
    ModelSpec? Model,
    OptimizerSpec? Optimizer,
    IReadOnlyList<int>? Seeds,
    int Steps,
    int BatchSize,
    int EvalEvery,
    IReadOnlyList<int>? TargetWidths);

public sealed record ModelSpec(
    string? Family,
    int HiddenLayers,
    IReadOnlyList<int>? Widths,
    string? Parameterization,
    int? BaseWidth = null);

public sealed record OptimizerSpec(string? Name, IReadOnlyList<double>? LearningRates);

/// <summary>One grid cell of a study, fixed when the study is defined.</summary>
public sealed record PlannedTrial(Guid TrialId, int Order, int Width, double LearningRate, int Seed);
