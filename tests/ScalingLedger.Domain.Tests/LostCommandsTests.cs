using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

public sealed class LostCommandsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private static readonly Guid A = Guid.NewGuid(), B = Guid.NewGuid(), C = Guid.NewGuid();

    private static SentCommand Sent(Guid id, int atSecond, int? startedSecond = null, int resent = 0) =>
        new(id, T0.AddSeconds(atSecond), startedSecond is { } s ? T0.AddSeconds(s) : null, resent);

    [Fact]
    public void a_command_still_queued_behind_a_running_trial_is_not_lost()
    {
        // A runs for long; B waits its turn (one slot): legitimately unstarted, however long.
        var sent = new[] { Sent(A, 0, startedSecond: 1), Sent(B, 0) };
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(600), T0.AddSeconds(600), Patience).ShouldBeEmpty();
    }

    [Fact]
    public void a_command_is_lost_when_one_sent_after_it_started_long_ago()
    {
        var sent = new[] { Sent(A, 0), Sent(B, 1, startedSecond: 2) };
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(100), T0.AddSeconds(100), Patience).ShouldBe([A]);
    }

    [Fact]
    public void with_several_slots_a_later_start_is_no_evidence()
    {
        // A took its command and waits for a slot while B, sent after it, took a slot that freed first.
        var sent = new[] { Sent(A, 0), Sent(B, 1, startedSecond: 2) };
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(100), T0.AddSeconds(100), Patience, inOrder: false).ShouldBeEmpty();
    }

    [Fact]
    public void a_later_start_within_patience_is_not_yet_evidence()
    {
        // A's start may still be on its way through the reports' queue.
        var sent = new[] { Sent(A, 0), Sent(B, 1, startedSecond: 70) };
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(100), T0.AddSeconds(100), Patience).ShouldBeEmpty();
    }

    [Fact]
    public void a_command_is_lost_when_the_trainer_has_run_nothing_for_patience()
    {
        var sent = new[] { Sent(A, 0), Sent(C, 5) };
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(30), T0.AddSeconds(100), Patience).ShouldBe([A, C]);
        // Sent within patience: not yet.
        LostCommands.Find([Sent(A, 50)], lastBusy: T0, T0.AddSeconds(100), Patience).ShouldBeEmpty();
        // The trainer ran something lately: it may still be taking them.
        LostCommands.Find(sent, lastBusy: T0.AddSeconds(90), T0.AddSeconds(100), Patience).ShouldBeEmpty();
    }

    [Fact]
    public void a_command_is_sent_again_a_bounded_number_of_times()
    {
        LostCommands.Find([Sent(A, 0, resent: LostCommands.MaxResends - 1)], T0, T0.AddSeconds(100), Patience).ShouldBe([A]);
        LostCommands.Find([Sent(A, 0, resent: LostCommands.MaxResends)], T0, T0.AddSeconds(100), Patience).ShouldBeEmpty();
    }
}
