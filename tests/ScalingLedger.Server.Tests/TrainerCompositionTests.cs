using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Tests;

/// <summary>Who trains a Server's trials, as each build and setting decides it (the team image is built without the trainer).</summary>
public class TrainerCompositionTests
{
    [Theory]
    // asked, built with the trainer, over RabbitMQ => embedded, refuses to start, warns
    [InlineData(null, true, false, true, false, false)]
    [InlineData(null, true, true, false, false, false)]
    [InlineData(false, true, false, false, false, true)]
    [InlineData(true, true, true, true, false, false)]
    [InlineData(null, false, true, false, false, false)]
    [InlineData(null, false, false, false, false, true)]
    [InlineData(true, false, true, false, true, false)]
    [InlineData(true, false, false, false, true, true)]
    public void a_server_trains_itself_only_where_it_was_built_with_the_trainer_and_says_when_nothing_will_train(
        bool? asked, bool built, bool overRabbit, bool embedded, bool refuses, bool warns)
    {
        var trainers = new TrainerComposition(asked, built, overRabbit);
        trainers.Embedded.ShouldBe(embedded);
        (trainers.Problem is not null).ShouldBe(refuses);
        (trainers.Warning is not null).ShouldBe(warns);
        if (refuses) trainers.Problem!.ShouldContain("built without the embedded trainer");
    }
}
