using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public class SpecValidationTests
{
    [Fact]
    public void accepts_the_demo_spec() => SpecValidation.Validate(Specs.Demo()).ShouldBeEmpty();

    [Fact]
    public void rejects_a_missing_body() => SpecValidation.Validate(null).Keys.ShouldBe([""]);

    [Fact]
    public void names_every_bad_field_at_once()
    {
        var spec = Specs.Demo() with
        {
            Name = " ",
            Dataset = "imagenet",
            Model = new("mlp", 0, [], "standard"),
            Optimizer = new("adam", [0.001, -0.1, double.NaN]),
            Seeds = [],
            Steps = 0,
            BatchSize = 0,
            EvalEvery = 0,
            TargetWidths = [0],
        };
        var errors = SpecValidation.Validate(spec);
        errors.Keys.ShouldBe(
            ["name", "dataset", "model.hiddenLayers", "model.widths", "optimizer.learningRates[1]", "optimizer.learningRates[2]",
             "seeds", "steps", "batchSize", "evalEvery", "targetWidths[0]"],
            ignoreOrder: true);
        errors["dataset"][0].ShouldContain("imagenet");
    }

    [Fact]
    public void rejects_non_positive_widths_by_index()
    {
        var errors = SpecValidation.Validate(Specs.Demo() with { Model = new("mlp", 3, [32, -4, 0], "standard") });
        errors.Keys.ShouldBe(["model.widths[1]", "model.widths[2]"], ignoreOrder: true);
    }

    [Fact]
    public void rejects_eval_interval_longer_than_the_run() =>
        SpecValidation.Validate(Specs.Demo() with { Steps = 100, EvalEvery = 250 }).Keys.ShouldBe(["evalEvery"]);

    [Fact]
    public void rejects_repeated_grid_values()
    {
        var errors = SpecValidation.Validate(Specs.Demo() with
        {
            Model = new("mlp", 3, [32, 32], "standard"),
            Optimizer = new("adam", [0.1, 0.1]),
            Seeds = [3, 3],
        });
        errors.Keys.ShouldBe(["model.widths", "optimizer.learningRates", "seeds"], ignoreOrder: true);
    }

    [Fact]
    public void a_mup_study_needs_a_base_width()
    {
        SpecValidation.Validate(Specs.Demo() with { Model = new("mlp", 3, [32], "mup") }).Keys.ShouldBe(["model.baseWidth"]);
        SpecValidation.Validate(Specs.Demo() with { Model = new("mlp", 3, [32], "mup", 32) }).ShouldBeEmpty();
    }

    [Fact]
    public void rejects_unknown_parameterization_family_and_optimizer()
    {
        var errors = SpecValidation.Validate(Specs.Demo() with
        {
            Model = new("cnn", 3, [32], "ntk"),
            Optimizer = new("sgd", [0.1]),
        });
        errors.Keys.ShouldBe(["model.family", "model.parameterization", "optimizer.name"], ignoreOrder: true);
    }

    [Fact]
    public void rejects_a_grid_too_large_to_run()
    {
        var spec = Specs.Demo() with
        {
            Model = new("mlp", 1, Enumerable.Range(1, 200).ToList(), "standard"),
            Optimizer = new("adam", Enumerable.Range(1, 60).Select(i => i * 1e-4).ToList()),
        };
        SpecValidation.Validate(spec).Keys.ShouldBe([""]);
    }

    [Fact]
    public void rejects_a_model_too_big_to_train_and_a_flood_of_checkpoints()
    {
        var huge = SpecValidation.Validate(Specs.Demo() with { Model = new("mlp", 3, [32, 65_536], "standard") });
        huge.Keys.ShouldBe(["model.widths"]);
        huge["model.widths"][0].ShouldContain("weights");
        SpecValidation.Validate(Specs.Demo() with { Model = new("mlp", 3, [4096], "standard") }).ShouldBeEmpty();

        var flood = SpecValidation.Validate(Specs.Demo() with { Steps = 10_000_000, EvalEvery = 1 });
        flood.Keys.ShouldBe(["evalEvery"]);
        flood["evalEvery"][0].ShouldContain("checkpoints");
    }

    [Fact]
    public void caps_that_keep_one_request_from_wedging_a_study_name_their_field()
    {
        var tooManyTargets = Specs.Demo() with { TargetWidths = Enumerable.Range(1, SpecValidation.MaxTargetWidths + 1).Select(i => i * 1024).ToList() };
        SpecValidation.Validate(tooManyTargets).Keys.ShouldBe(["targetWidths"]);
        SpecValidation.Validate(Specs.Demo() with { TargetWidths = Enumerable.Range(1, SpecValidation.MaxTargetWidths).Select(i => i * 1024).ToList() })
            .ShouldBeEmpty();

        // 10 widths x 10 rates x 30 seeds = 3,000 trials with 1,000 checkpoints each: 3,000,000 checkpoints.
        var huge = Specs.Demo() with
        {
            Model = new ModelSpec("mlp", 3, Enumerable.Range(1, 10).Select(i => 8 * i).ToList(), "standard"),
            Optimizer = new OptimizerSpec("adam", Enumerable.Range(1, 10).Select(i => i * 1e-4).ToList()),
            Seeds = Enumerable.Range(0, 30).ToList(),
            Steps = 10_000,
            EvalEvery = 10,
        };
        var errors = SpecValidation.Validate(huge);
        errors.Keys.ShouldBe(["evalEvery"]);
        errors["evalEvery"][0].ShouldContain("3,000,000 checkpoints");
        SpecValidation.Validate(huge with { EvalEvery = 20 }).ShouldBeEmpty();
    }
}
