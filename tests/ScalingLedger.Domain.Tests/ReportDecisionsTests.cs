using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// The decision about every report type a trainer sends, against every standing of its trial, case by case. A report type
/// added to Contracts (an <see cref="ITrainerReport"/>) without a row here fails <see cref="Every_report_type_a_trainer_sends_has_a_row_for_every_standing"/>.
/// </summary>
public class ReportDecisionsTests
{
    private static readonly Guid RunA = Guid.Parse("00000000-0000-0000-0000-00000000000a"), RunB = Guid.Parse("00000000-0000-0000-0000-00000000000b");

    /// <summary>Where the trial stands, and the run the report names.</summary>
    public enum Standing
    {
        /// <summary>The report names a study the ledger does not have.</summary>
        NoStudy,
        /// <summary>The study is there; the trial is not one of its.</summary>
        NoTrial,
        /// <summary>Not started; the report is from run A (its first run).</summary>
        Scheduled,
        /// <summary>Not started; the report names no run (a trainer before runs).</summary>
        ScheduledNoRun,
        /// <summary>Running as run A; the report is from run A.</summary>
        Running,
        /// <summary>Running as run A; the report is from run B, a second delivery of its command.</summary>
        RunningOtherRun,
        /// <summary>Run B took over from run A; the report is from run A.</summary>
        Superseded,
        /// <summary>Completed as run A; the report is from run A.</summary>
        Ended,
        /// <summary>The study was cancelled before the trial started; the report is from run A.</summary>
        StudyCancelled,
    }

    private sealed record Case(StudyTestKit Kit, PlannedTrial Trial, Guid? Run)
    {
        public StudySummaryView? Study { get; init; }
        public TrialView? View { get; init; }
    }

    private static Case Given(Standing standing)
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var start = new TrialStarted(kit.StudyId, t.TrialId, 1, "w", "h", 1, "0.107", StudyTestKit.Now, RunId: RunA);
        Guid? run = RunA;
        switch (standing)
        {
            case Standing.ScheduledNoRun: run = null; break;
            case Standing.Running: kit.Given(start); break;
            case Standing.RunningOtherRun: kit.Given(start); run = RunB; break;
            case Standing.Superseded: kit.Given(start, start with { RunId = RunB, Attempt = 2 }); break;
            case Standing.Ended: kit.Given(start, kit.Completed(t, 0.5)); break;
            case Standing.StudyCancelled: kit.Given(new StudyCancelled(kit.StudyId, "alice", null, StudyTestKit.Now)); break;
        }
        return new Case(kit, t, run)
        {
            Study = standing == Standing.NoStudy ? null : kit.View,
            View = standing is Standing.NoStudy or Standing.NoTrial ? null : kit.View.Trial(t.TrialId),
        };
    }

    /// <summary>One well-formed report of each type a trainer sends, about the case's trial.</summary>
    private static readonly Dictionary<Type, Func<Case, ITrainerReport>> Samples = new()
    {
        [typeof(TrialStarted)] = c => new TrialStarted(c.Kit.StudyId, c.Trial.TrialId, 1, "w", "h", 1, "0.107", StudyTestKit.Now, RunId: c.Run),
        [typeof(LossCheckpointRecorded)] = c => Checkpoint(c, 10),
        [typeof(LossCheckpointsRecorded)] = c => new LossCheckpointsRecorded(c.Kit.StudyId, c.Trial.TrialId, [Checkpoint(c, 10), Checkpoint(c, 20)]),
        [typeof(TrialCompleted)] = c => c.Kit.Completed(c.Trial, 0.4),
        [typeof(TrialDiverged)] = c => c.Kit.Diverged(c.Trial),
        [typeof(TrialFailed)] = c => new TrialFailed(c.Kit.StudyId, c.Trial.TrialId, "IOException: the disk went away", StudyTestKit.Now, 1),
        [typeof(TrialCancelled)] = c => new TrialCancelled(c.Kit.StudyId, c.Trial.TrialId, 10, StudyTestKit.Now),
        [typeof(TrialHeartbeat)] = c => new TrialHeartbeat(c.Kit.StudyId, c.Trial.TrialId, c.Run ?? RunA, "w", StudyTestKit.Now),
        [typeof(CoordinateCheckRecorded)] = c => CheckResult(c.Kit.StudyId, Guid.NewGuid()),
        [typeof(CoordinateCheckFailed)] = c => new CoordinateCheckFailed(c.Kit.StudyId, Guid.NewGuid(), "OutOfMemoryException", StudyTestKit.Now),
    };

    /// <summary>A malformed report of each type: refused whatever the trial's standing, before anything is read.</summary>
    private static readonly Dictionary<Type, Func<Case, ITrainerReport>> Malformed = new()
    {
        [typeof(TrialStarted)] = c => new TrialStarted(c.Kit.StudyId, c.Trial.TrialId, 0, "w", "h", 1, "0.107", StudyTestKit.Now, RunId: c.Run),
        [typeof(LossCheckpointRecorded)] = c => Checkpoint(c, 10) with { EvalLoss = double.NaN },
        [typeof(LossCheckpointsRecorded)] = c => new LossCheckpointsRecorded(c.Kit.StudyId, c.Trial.TrialId, []),
        [typeof(TrialCompleted)] = c => c.Kit.Completed(c.Trial, -1),
        [typeof(TrialDiverged)] = c => c.Kit.Diverged(c.Trial) with { Step = -1 },
        [typeof(TrialFailed)] = c => new TrialFailed(c.Kit.StudyId, c.Trial.TrialId, "bad\0error", StudyTestKit.Now, 1),
        [typeof(TrialCancelled)] = c => new TrialCancelled(c.Kit.StudyId, c.Trial.TrialId, -5, StudyTestKit.Now),
        [typeof(TrialHeartbeat)] = c => new TrialHeartbeat(c.Kit.StudyId, c.Trial.TrialId, RunA, new string('w', 201), StudyTestKit.Now),
        [typeof(CoordinateCheckRecorded)] = c => CheckResult(c.Kit.StudyId, Guid.NewGuid()) with { Steps = -1 },
        [typeof(CoordinateCheckFailed)] = c => new CoordinateCheckFailed(c.Kit.StudyId, Guid.NewGuid(), "out of\0memory", StudyTestKit.Now),
    };

    private static LossCheckpointRecorded Checkpoint(Case c, int step) => new(c.Kit.StudyId, c.Trial.TrialId, step, 1.0, 0.9, 0.5, StudyTestKit.Now);

    private static CoordinateCheckRecorded CheckResult(Guid study, Guid check) => new(study, check, "standard", null, 0.01, 2, ["l1", "out"],
        [new CoordinateCheckWidth(8, [[1.0, 2.0], [1.1, 2.1]])], StudyTestKit.Now);

    private const string Rec = "record", Ref = "refuse", Ign = "ignore", Ret = "retry", Ren = "renew";

    /// <summary>
    /// Verdict, and for a recorded report the type of its first event; for an ignored one, the run told to stop when one is.
    /// Columns: the standings in <see cref="Standing"/>'s order.
    /// </summary>
    private static readonly Dictionary<Type, string[]> Table = new()
    {
        // Columns: NoStudy, NoTrial, Scheduled, ScheduledNoRun, Running, RunningOtherRun, Superseded, Ended, StudyCancelled.
        [typeof(TrialStarted)] = [Ref, Ref, Rec + " TrialStarted", Rec + " TrialStarted", Ign, Rec + " TrialStarted stop A", Ign, Ign, Rec + " TrialCancelled"],
        [typeof(LossCheckpointRecorded)] = [Ref, Ref, Ret, Ref, Rec + " LossCheckpointRecorded", Ret, Ign + " stop A", Rec + " LossCheckpointRecorded", Ret],
        [typeof(LossCheckpointsRecorded)] = [Ref, Ref, Ret, Ref, Rec + " LossCheckpointRecorded", Ret, Ign + " stop A", Rec + " LossCheckpointRecorded", Ret],
        [typeof(TrialCompleted)] = [Ref, Ref, Ret, Ref, Rec + " TrialCompleted", Ret, Ign + " stop A", Ign, Ret],
        [typeof(TrialDiverged)] = [Ref, Ref, Ret, Ref, Rec + " TrialDiverged", Ret, Ign + " stop A", Ign, Ret],
        [typeof(TrialFailed)] = [Ref, Ref, Rec + " TrialAttemptFailed", Rec + " TrialAttemptFailed", Rec + " TrialAttemptFailed", Ret, Ign + " stop A", Ign,
            Rec + " TrialFailed"],
        [typeof(TrialCancelled)] = [Ref, Ref, Ret, Rec + " TrialCancelled", Rec + " TrialCancelled", Ret, Ign + " stop A", Ign, Ret],
        [typeof(TrialHeartbeat)] = [Ren, Ren, Ren, Ren, Ren, Ren, Ren, Ren, Ren],
        [typeof(CoordinateCheckRecorded)] = [Ref, Ref, Ref, Ref, Ref, Ref, Ref, Ref, Ref],
        [typeof(CoordinateCheckFailed)] = [Ref, Ref, Ref, Ref, Ref, Ref, Ref, Ref, Ref],
    };

    [Fact]
    public void Every_report_type_a_trainer_sends_has_a_row_for_every_standing()
    {
        TrainerReports.Types.Count.ShouldBe(10, "the report types: " + string.Join(", ", TrainerReports.Types.Select(t => t.Name)));
        foreach (var type in TrainerReports.Types)
        {
            Samples.ShouldContainKey(type, $"{type.Name} is a report a trainer sends, with no sample in this table: decide it first");
            Malformed.ShouldContainKey(type, $"{type.Name} has no malformed sample");
            Table.ShouldContainKey(type, $"{type.Name} has no row in the decision table");
            Table[type].Length.ShouldBe(Enum.GetValues<Standing>().Length, $"{type.Name}'s row");
            ReportValidation.Shape(Samples[type](Given(Standing.Running))).ShouldBeNull($"the sample {type.Name} is well formed");
        }
    }

    public static TheoryData<string, Standing> Cells()
    {
        var cells = new TheoryData<string, Standing>();
        foreach (var type in TrainerReports.Types)
            foreach (var standing in Enum.GetValues<Standing>())
                cells.Add(type.Name, standing);
        return cells;
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void A_report_is_decided_as_the_table_says(string type, Standing standing)
    {
        var reportType = TrainerReports.Types.Single(t => t.Name == type);
        var c = Given(standing);
        var report = Samples[reportType](c);
        var expected = Table[reportType][(int)standing].Split(' ');
        var decision = Decide(c, report);

        Verdict(decision.Verdict).ShouldBe(expected[0], $"{type} when {standing}: {decision.Why}");
        if (decision.Verdict == ReportVerdict.Record)
        {
            decision.Events.ShouldNotBeEmpty();
            decision.Events[0].GetType().Name.ShouldBe(expected[1]);
        }
        else decision.Events.ShouldBeEmpty();
        if (decision.Verdict is ReportVerdict.Refuse or ReportVerdict.Retry) decision.Why.ShouldNotBeNullOrWhiteSpace();
        decision.StopRun.ShouldBe(expected.Contains("stop") ? RunA : null, "the run told to stop");
    }

    [Theory]
    [MemberData(nameof(Cells))]
    public void A_malformed_report_is_refused_whatever_its_trial_stands(string type, Standing standing)
    {
        var reportType = TrainerReports.Types.Single(t => t.Name == type);
        var c = Given(standing);
        var report = Malformed[reportType](c);
        ReportDecisions.Screen(report)!.Verdict.ShouldBe(ReportVerdict.Refuse);
        var decision = Decide(c, report);
        decision.Verdict.ShouldBe(ReportVerdict.Refuse);
        decision.Events.ShouldBeEmpty();
    }

    [Fact]
    public void What_no_trainer_may_send_is_refused_with_why()
    {
        var c = Given(Standing.Running);
        ReportDecisions.Decide(new TrialAttemptFailed(c.Kit.StudyId, c.Trial.TrialId, 1, "e", null, StudyTestKit.Now), RunA, c.Study, c.View)
            .Why!.ShouldContain("the Server's to record");
        ReportDecisions.Decide("a string", RunA, c.Study, c.View).Why!.ShouldContain("String is not a report");
    }

    [Fact]
    public void A_redelivered_report_records_nothing_and_says_so()
    {
        var c = Given(Standing.Running);
        var checkpoint = Checkpoint(c, 10);
        var first = ReportDecisions.Decide(checkpoint, RunA, c.Study, c.View);
        first.Verdict.ShouldBe(ReportVerdict.Record);
        c.Kit.Given([.. first.Events]);
        var again = ReportDecisions.Decide(checkpoint, RunA, c.Kit.View, c.Kit.View.Trial(c.Trial.TrialId));
        again.Verdict.ShouldBe(ReportVerdict.Ignore);
        again.Why!.ShouldContain("recorded already");
    }

    [Fact]
    public void A_failed_attempt_below_the_limit_is_run_again_and_the_last_ends_the_trial()
    {
        var c = Given(Standing.Running);
        var failed = (TrialFailed)Samples[typeof(TrialFailed)](c);
        var decision = ReportDecisions.Decide(failed, RunA, c.Study, c.View);
        decision.Retries.ShouldBe([(c.Trial.TrialId, 2)]);
        decision.End.ShouldBeNull();

        var kit = c.Kit;
        foreach (var (attempt, run) in new[] { (2, RunB), (3, Guid.NewGuid()) })
            kit.Given(new TrialAttemptFailed(kit.StudyId, c.Trial.TrialId, attempt - 1, "e", null, StudyTestKit.Now),
                new TrialStarted(kit.StudyId, c.Trial.TrialId, attempt, "w", "h", 1, "0.107", StudyTestKit.Now, RunId: run));
        var trial = kit.View.Trial(c.Trial.TrialId)!;
        var last = ReportDecisions.Decide(failed, trial.RunId, kit.View, trial);
        last.Events.ShouldHaveSingleItem().ShouldBeOfType<TrialFailed>().Attempt.ShouldBe(3);
        last.Retries.ShouldBeEmpty();
        last.End.ShouldNotBeNull();
    }

    [Fact]
    public void A_coordinate_checks_result_is_recorded_once_for_a_check_that_was_asked_for()
    {
        var c = Given(Standing.Running);
        var checkId = Guid.NewGuid();
        var result = CheckResult(c.Kit.StudyId, checkId);
        var asked = new CoordinateCheckView
        {
            Id = checkId, StudyId = c.Kit.StudyId, Status = CoordinateCheckStatus.Requested,
            Request = new CoordinateCheckRequested(c.Kit.StudyId, checkId, [8], 0.01, 2, 32, "alice", StudyTestKit.Now),
        };
        ReportDecisions.DecideCheck(result, c.Study, asked, checkId).Verdict.ShouldBe(ReportVerdict.Record);
        ReportDecisions.DecideCheck(result with { Widths = [new CoordinateCheckWidth(16, [[1.0, 2.0]])] }, c.Study, asked, checkId)
            .Why!.ShouldContain("not the widths asked for");
        asked.Status = CoordinateCheckStatus.Recorded;
        ReportDecisions.DecideCheck(result, c.Study, asked, checkId).Verdict.ShouldBe(ReportVerdict.Ignore);
        ReportDecisions.Decide(result, RunA, c.Study, c.View).Verdict.ShouldBe(ReportVerdict.Refuse, "a check's result is not about a trial");
    }

    /// <summary>As the Server decides: a coordinate check's report against its check (none asked for here), any other against its trial.</summary>
    private static ReportDecision Decide(Case c, ITrainerReport report) => ReportDecisions.CheckOf(report) is { } check
        ? ReportDecisions.DecideCheck((IStudyEvent)report, c.Study, null, check)
        : ReportDecisions.Decide(report, c.Run, c.Study, c.View);

    private static string Verdict(ReportVerdict verdict) => verdict switch
    {
        ReportVerdict.Record => Rec,
        ReportVerdict.Refuse => Ref,
        ReportVerdict.Ignore => Ign,
        ReportVerdict.Retry => Ret,
        ReportVerdict.Renew => Ren,
        _ => throw new ArgumentOutOfRangeException(nameof(verdict)),
    };
}
