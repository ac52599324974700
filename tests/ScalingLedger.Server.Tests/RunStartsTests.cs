using System.Diagnostics;
using ScalingLedger.Server.Intake;

namespace ScalingLedger.Server.Tests;

/// <summary>Reports wait for their run's start a moment, and only so many: a forged run cannot hold the report slots.</summary>
public class RunStartsTests
{
    [Fact]
    public async Task a_report_waits_for_its_runs_start_and_goes_on_when_it_is_recorded()
    {
        var starts = new RunStarts();
        var run = Guid.NewGuid();
        var waiting = starts.WaitAsync(run, default);
        await Task.Delay(50);
        waiting.IsCompleted.ShouldBeFalse();
        starts.Recorded(run);
        (await waiting.WaitAsync(TimeSpan.FromSeconds(1))).ShouldBeTrue();
        (await starts.WaitAsync(run, default)).ShouldBeTrue("a run already started needs no wait");
    }

    [Fact]
    public async Task only_a_few_reports_wait_for_a_run_nobody_started_and_only_so_many_in_all()
    {
        var starts = new RunStarts();
        var forged = Guid.NewGuid();
        var clock = Stopwatch.StartNew();
        var one = Enumerable.Range(0, 50).Select(_ => starts.WaitAsync(forged, default)).ToList();
        // Past the bound for that run, the rest are turned away at once (false, before any wait).
        var turnedAway = one.Where(t => t.IsCompleted).ToList();
        turnedAway.Count.ShouldBe(50 - RunStarts.MaxWaitingPerRun);
        turnedAway.ShouldAllBe(t => !t.Result);
        // Runs of their own each: past the bound in all, the same.
        var many = Enumerable.Range(0, 100).Select(_ => starts.WaitAsync(Guid.NewGuid(), default)).ToList();
        many.Count(t => !t.IsCompleted).ShouldBe(RunStarts.MaxWaiting - RunStarts.MaxWaitingPerRun);
        clock.Elapsed.ShouldBeLessThan(RunStarts.MaxWait, "those turned away did not wait");
        starts.TurnedAway.ShouldBe(50 - RunStarts.MaxWaitingPerRun + 100 - (RunStarts.MaxWaiting - RunStarts.MaxWaitingPerRun));
        // Those that waited give up after MaxWait, and make room again.
        (await Task.WhenAll(one.Concat(many))).ShouldAllBe(started => !started);
        var again = starts.WaitAsync(forged, default);
        again.IsCompleted.ShouldBeFalse("room was made: the next report waits again");
        starts.Recorded(forged);
        (await again).ShouldBeTrue();
    }
}
