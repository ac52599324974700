using ScalingLedger.Domain.Laws;

namespace ScalingLedger.Domain.Tests;

public sealed class RefitTroubleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid Study = Guid.Parse("01a22e3a-a6d0-7a5f-8fde-9be21e2e2161");

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(7, 320)]
    [InlineData(8, 600)]
    [InlineData(1000, 600)]
    public void the_wait_doubles_from_5_s_up_to_10_minutes(int failures, double seconds) =>
        RefitTrouble.Backoff(failures).ShouldBe(TimeSpan.FromSeconds(seconds));

    [Fact]
    public void a_failure_after_another_counts_on_keeps_when_it_began_and_waits_longer()
    {
        var first = RefitTrouble.After(null, Study, RefitCost.Slow, new ArithmeticException("singular\n   at Somewhere()"), T0);
        first.Id.ShouldBe($"{Study}/Slow");
        first.Failures.ShouldBe(1);
        first.Error.ShouldBe("ArithmeticException: singular");
        first.RetryAt.ShouldBe(T0.AddSeconds(5));

        var second = RefitTrouble.After(first, Study, RefitCost.Slow, new InvalidOperationException("again"), T0.AddSeconds(6));
        second.Failures.ShouldBe(2);
        second.Since.ShouldBe(T0);
        second.LastFailedAt.ShouldBe(T0.AddSeconds(6));
        second.RetryAt.ShouldBe(T0.AddSeconds(16));
        second.Error.ShouldBe("InvalidOperationException: again");
    }

    [Fact]
    public void a_long_error_is_cut_to_its_first_300_characters()
    {
        var trouble = RefitTrouble.After(null, Study, RefitCost.Quick, new Exception(new string('x', 5_000)), T0);
        trouble.Error.Length.ShouldBe(RefitTrouble.MaxErrorLength + 1);
        trouble.Error.ShouldEndWith("…");
    }
}
