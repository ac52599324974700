using Npgsql;
using ScalingLedger.Server.Intake;

namespace ScalingLedger.Server.Tests;

/// <summary>How long a replayed report that still cannot be recorded waits before it goes back to the error queue.</summary>
public sealed class FailedReportsTests
{
    [Fact]
    public void a_report_before_its_runs_start_goes_back_soon_and_one_that_meets_the_database_down_waits_longer()
    {
        var early = new ReportTooEarlyException("LossCheckpointsRecorded of trial t from run r, whose start is not recorded yet");
        FailedReports.PauseFor(early).ShouldBe(FailedReports.EarlyPause);
        // As the transport hands it over: wrapped.
        FailedReports.PauseFor(new InvalidOperationException("the consumer faulted", early)).ShouldBe(FailedReports.EarlyPause);
        FailedReports.PauseFor(new NpgsqlException("the database is away")).ShouldBe(FailedReports.Pause);
        FailedReports.PauseFor(new TimeoutException()).ShouldBe(FailedReports.Pause);
        FailedReports.EarlyPause.ShouldBeLessThan(FailedReports.Pause);
        // Each is tried again while it may pass by itself.
        FailedReports.IsTransient(early).ShouldBeTrue();
        FailedReports.IsTransient(new NpgsqlException("the database is away")).ShouldBeTrue();
        FailedReports.IsTransient(new FormatException("a bad report")).ShouldBeFalse();
    }
}
