using Microsoft.Extensions.Logging.Abstractions;
using ScalingLedger.Server.Trials;

namespace ScalingLedger.Server.Tests;

/// <summary>A trial's reports pass in the order they were sent, whatever order they arrive in.</summary>
public class ReportSequencerTests
{
    private readonly ReportSequencer sequencer = new(NullLogger<ReportSequencer>.Instance);
    private static readonly Guid Trial = Guid.NewGuid();

    [Fact]
    public async Task a_report_that_arrives_before_the_one_sent_before_it_waits_for_it_to_be_recorded()
    {
        var start = new ReportPosition(Trial, 1, 0, false);
        var checkpoints = new ReportPosition(Trial, 1, 1, false);
        var end = new ReportPosition(Trial, 1, 2, true);

        var endTurn = sequencer.WaitTurnAsync(end, default);
        var checkpointsTurn = sequencer.WaitTurnAsync(checkpoints, default);
        await sequencer.WaitTurnAsync(start, default);
        await Task.Delay(50);
        checkpointsTurn.IsCompleted.ShouldBeFalse("the checkpoints waited for the start to be recorded");
        endTurn.IsCompleted.ShouldBeFalse();

        sequencer.Recorded(start);
        await checkpointsTurn.WaitAsync(TimeSpan.FromSeconds(1));
        await Task.Delay(50);
        endTurn.IsCompleted.ShouldBeFalse("the end waited for the checkpoints");
        sequencer.Recorded(checkpoints);
        await endTurn.WaitAsync(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task a_redelivered_report_already_recorded_passes_at_once()
    {
        var start = new ReportPosition(Trial, 1, 0, false);
        await sequencer.WaitTurnAsync(start, default);
        sequencer.Recorded(start);
        await sequencer.WaitTurnAsync(start, default).WaitAsync(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task attempts_are_ordered_apart()
    {
        await sequencer.WaitTurnAsync(new ReportPosition(Trial, 1, 0, false), default);
        // The second attempt's start does not wait for the first attempt's later reports.
        await sequencer.WaitTurnAsync(new ReportPosition(Trial, 2, 0, false), default).WaitAsync(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task after_a_restart_a_trial_seen_first_in_the_middle_waits_briefly_then_passes()
    {
        // Nothing of this trial seen since start (its earlier reports were recorded before a restart).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await sequencer.WaitTurnAsync(new ReportPosition(Trial, 1, 5, false), default).WaitAsync(TimeSpan.FromSeconds(10));
        clock.Elapsed.ShouldBeGreaterThanOrEqualTo(ReportSequencer.UnknownWait - TimeSpan.FromMilliseconds(50));
        // Once it passed, the next one follows it without waiting.
        sequencer.Recorded(new ReportPosition(Trial, 1, 5, false));
        await sequencer.WaitTurnAsync(new ReportPosition(Trial, 1, 6, true), default).WaitAsync(TimeSpan.FromSeconds(1));
    }
}
