using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>Checks a submitted study spec and names every bad field, keyed by its camelCase JSON path.</summary>
public static class SpecValidation
{
    public const int MaxTrials = 10_000;
    public const int MaxWidth = 65_536;
    public const int MaxHiddenLayers = 32;
    /// <summary>The largest model a trial may train: 100M weights (about 1.6 GB with gradients and Adam's state).</summary>
    public const long MaxWeights = 100_000_000;
    /// <summary>Checkpoints per trial (steps / evalEvery): each is an event and a point on the trial's curve.</summary>
    public const int MaxCheckpoints = 1_000;
    /// <summary>Target widths a study may predict at (each fit predicts every one of them).</summary>
    public const int MaxTargetWidths = 32;
    /// <summary>
    /// Checkpoints a whole study may record (trials x checkpoints per trial): 2,000,000, e.g. 10,000 trials with 200
    /// checkpoints each, or 4,320 trials with 460. Each is an event; this bounds a study's ledger at about 0.5 GB.
    /// </summary>
    public const long MaxStudyCheckpoints = 2_000_000;
    public static readonly IReadOnlyList<string> KnownDatasets = [.. TrialScale.Datasets.Keys];
    public static readonly IReadOnlyList<string> KnownParameterizations = ["standard", "mup"];

    public static IReadOnlyDictionary<string, string[]> Validate(StudySpec? spec)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (spec is null)
        {
            Add("", "The request body must be a study spec (JSON object).");
            return Freeze(errors);
        }

        if (string.IsNullOrWhiteSpace(spec.Name)) Add("name", "A study needs a name.");
        else if (TextRules.Problem("name", spec.Name) is { } name) Add("name", $"The {name}.");
        if (string.IsNullOrWhiteSpace(spec.Owner)) Add("owner", "A study needs an owner.");
        else if (TextRules.Problem("owner", spec.Owner) is { } owner) Add("owner", $"The {owner}.");
        if (string.IsNullOrWhiteSpace(spec.Dataset)) Add("dataset", "A dataset is required; known: " + string.Join(", ", KnownDatasets) + ".");
        else if (!KnownDatasets.Contains(spec.Dataset)) Add("dataset", $"Unknown dataset '{spec.Dataset}'; known: {string.Join(", ", KnownDatasets)}.");

        if (spec.Model is null) Add("model", "The model section is required.");
        else
        {
            var m = spec.Model;
            if (m.Family != "mlp") Add("model.family", $"Unknown model family '{m.Family}'; known: mlp.");
            if (m.HiddenLayers < 1 || m.HiddenLayers > MaxHiddenLayers)
                Add("model.hiddenLayers", $"hiddenLayers must be between 1 and {MaxHiddenLayers}, got {m.HiddenLayers}.");
            CheckSizes(m.Widths, "model.widths", "width", Add, required: true);
            var p = m.Parameterization ?? "standard";
            if (!KnownParameterizations.Contains(p))
                Add("model.parameterization", $"Unknown parameterization '{p}'; known: {string.Join(", ", KnownParameterizations)}.");
            if (p == "mup" && (m.BaseWidth is null || m.BaseWidth < 1 || m.BaseWidth > MaxWidth))
                Add("model.baseWidth", "A mup study needs a positive baseWidth.");
            if (p == "standard" && m.BaseWidth is not null && m.BaseWidth < 1)
                Add("model.baseWidth", "baseWidth must be positive when given.");
            if (m.Widths is { Count: > 0 } ws && m.HiddenLayers is >= 1 and <= MaxHiddenLayers
                && ws.Where(w => w > 0).Select(w => Weights(w, m.HiddenLayers)).DefaultIfEmpty(0).Max() is var most && most > MaxWeights)
                Add("model.widths", $"The widest model has {most:N0} weights; at most {MaxWeights:N0} fit this trainer.");
        }

        if (spec.Optimizer is null) Add("optimizer", "The optimizer section is required.");
        else
        {
            if (spec.Optimizer.Name != "adam") Add("optimizer.name", $"Unknown optimizer '{spec.Optimizer.Name}'; known: adam.");
            var rates = spec.Optimizer.LearningRates;
            if (rates is null || rates.Count == 0) Add("optimizer.learningRates", "At least one learning rate is required.");
            else
            {
                for (var i = 0; i < rates.Count; i++)
                    if (!double.IsFinite(rates[i]) || rates[i] <= 0 || rates[i] > 100)
                        Add($"optimizer.learningRates[{i}]", $"A learning rate must be a positive number at most 100, got {rates[i]}.");
                if (rates.Distinct().Count() != rates.Count) Add("optimizer.learningRates", "Learning rates must not repeat.");
            }
        }

        if (spec.Seeds is null || spec.Seeds.Count == 0) Add("seeds", "At least one seed is required.");
        else
        {
            for (var i = 0; i < spec.Seeds.Count; i++)
                if (spec.Seeds[i] < 0) Add($"seeds[{i}]", $"A seed must be zero or positive, got {spec.Seeds[i]}.");
            if (spec.Seeds.Distinct().Count() != spec.Seeds.Count) Add("seeds", "Seeds must not repeat.");
        }

        if (spec.Steps < 1 || spec.Steps > 10_000_000) Add("steps", $"steps must be between 1 and 10,000,000, got {spec.Steps}.");
        if (spec.BatchSize < 1 || spec.BatchSize > 60_000) Add("batchSize", $"batchSize must be between 1 and 60,000, got {spec.BatchSize}.");
        if (spec.EvalEvery < 1) Add("evalEvery", $"evalEvery must be at least 1, got {spec.EvalEvery}.");
        else if (spec.Steps >= 1 && spec.EvalEvery > spec.Steps) Add("evalEvery", $"evalEvery ({spec.EvalEvery}) must not exceed steps ({spec.Steps}).");
        else if (spec.Steps >= 1 && spec.Steps / spec.EvalEvery > MaxCheckpoints)
            Add("evalEvery", $"{spec.Steps} steps with evalEvery {spec.EvalEvery} make {spec.Steps / spec.EvalEvery:N0} checkpoints per trial; " +
                $"at most {MaxCheckpoints:N0}.");
        if (spec.TargetWidths is not null)
        {
            CheckSizes(spec.TargetWidths, "targetWidths", "target width", Add, required: false);
            if (spec.TargetWidths.Count > MaxTargetWidths)
                Add("targetWidths", $"At most {MaxTargetWidths} target widths, got {spec.TargetWidths.Count}.");
        }

        if (!errors.Keys.Any(k => k.StartsWith("model", StringComparison.Ordinal) || k.StartsWith("optimizer", StringComparison.Ordinal)
            || k.StartsWith("seeds", StringComparison.Ordinal)))
        {
            long trials = (long)spec.Model!.Widths!.Count * spec.Optimizer!.LearningRates!.Count * spec.Seeds!.Count;
            if (trials > MaxTrials) Add("", $"The grid has {trials} trials; at most {MaxTrials} are allowed.");
            else if (spec.Steps >= 1 && spec.EvalEvery >= 1 && spec.EvalEvery <= spec.Steps
                && trials * CheckpointsPerTrial(spec.Steps, spec.EvalEvery) is var total && total > MaxStudyCheckpoints)
                Add("evalEvery", $"{trials:N0} trials with {CheckpointsPerTrial(spec.Steps, spec.EvalEvery):N0} checkpoints each " +
                    $"make {total:N0} checkpoints; " +
                    $"at most {MaxStudyCheckpoints:N0} per study (evaluate less often, or split the grid).");
        }

        return Freeze(errors);
    }

    /// <summary>Checkpoints a trial records: every evalEvery steps, and at the last step.</summary>
    public static long CheckpointsPerTrial(int steps, int evalEvery) => steps / evalEvery + (steps % evalEvery == 0 ? 0 : 1);

    /// <summary>Weights of the MLP on 28x28 inputs and 10 classes: 784 w + (layers - 1) w^2 + 10 w.</summary>
    public static long Weights(int width, int hiddenLayers) => 784L * width + (hiddenLayers - 1L) * width * width + 10L * width;

    private static void CheckSizes(IReadOnlyList<int>? sizes, string field, string what, Action<string, string> add, bool required)
    {
        if (sizes is null || sizes.Count == 0)
        {
            if (required) add(field, $"At least one {what} is required.");
            return;
        }
        for (var i = 0; i < sizes.Count; i++)
            if (sizes[i] < 1 || sizes[i] > MaxWidth) add($"{field}[{i}]", $"A {what} must be between 1 and {MaxWidth}, got {sizes[i]}.");
        if (sizes.Distinct().Count() != sizes.Count) add(field, $"Each {what} may appear once.");
    }

    private static IReadOnlyDictionary<string, string[]> Freeze(Dictionary<string, List<string>> errors) =>
        errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
}
