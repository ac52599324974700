using System.Diagnostics;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Claims;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using Spectre.Console;

namespace ScalingLedger.Cli.Commands;

/// <summary>
/// Follows a study to its end on standard error: trials ended of total, the running trials, an estimate of the time left
/// (from the pace of trials ended since following began), and each prediction that resolved outside its 95% interval as it
/// happens. A bar redrawn in place on a terminal, a line per change otherwise (a log, a CI job).
/// </summary>
public static class StudyProgress
{
    public static async Task<StudyView> FollowAsync(LedgerClient client, Guid id, CancellationToken cancel)
    {
        var io = CliContext.Current;
        var console = io.ErrConsole();
        var study = await client.GetStudyAsync(id, null, "none", cancel);
        var clock = Stopwatch.StartNew();
        var endedAtStart = Ended(study);
        var deviationsSeen = new HashSet<Guid>(study.CrediblePredictions.Where(p => p.IsDeviation).Select(p => p.Id));
        var lastLine = "";

        async Task<StudyView> Poll(Action<StudyView, string> show)
        {
            while (true)
            {
                var line = Line(study, clock.Elapsed, endedAtStart);
                show(study, line);
                foreach (var p in study.CrediblePredictions.Where(p => p.IsDeviation && deviationsSeen.Add(p.Id)))
                    console.WriteLine(Printable.Text($"  deviation: {p.Issued.Law} ({p.Issued.Key}) at width {Numbers.Width(p.Issued.Width)} predicted " +
                                                     $"{Numbers.Format(p.Issued.Predicted)} {Numbers.Interval(p.Issued.Lower, p.Issued.Upper)}, " +
                                                     $"observed {PredictionResolution.ObservedText(p.Resolution!, v => Numbers.Format(v))}"));
                if (study.Status != StudyStatus.Running) return study;
                await Task.Delay(io.PollEvery, cancel);
                study = await client.GetStudyAsync(id, null, "none", cancel);
            }
        }

        if (!io.Interactive)
            // A line when something happened (a trial ended or started, a fit, a deviation), not each time the estimate moves.
            return await Poll((s, line) =>
            {
                var what = $"{Ended(s)} {string.Join(',', s.Trials.Where(t => t.Status == TrialStatus.Running).Select(t => t.TrialId))} {s.FitCount} " +
                           $"{s.CrediblePredictions.Count(p => p.IsDeviation)} {s.Status}";
                if (what == lastLine) return;
                io.Err.WriteLine(line);
                lastLine = what;
            });
        StudyView? done = null;
        await console.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .StartAsync(async progress =>
            {
                var task = progress.AddTask("trials", maxValue: Math.Max(1, study.TrialCount));
                done = await Poll((s, line) =>
                {
                    task.Value = Ended(s);
                    task.Description = Markup.Escape(Printable.Text(line));
                });
                task.Value = task.MaxValue;
            });
        return done!;
    }

    private static int Ended(StudyView study) => study.Trials.Count(t => t.IsTerminal);

    /// <summary>The state of the study in one line.</summary>
    public static string Line(StudyView study, TimeSpan elapsed, int endedAtStart)
    {
        var ended = Ended(study);
        var running = study.Trials.Where(t => t.Status == TrialStatus.Running).ToList();
        var pace = elapsed.TotalSeconds > 1 && ended > endedAtStart ? (ended - endedAtStart) / elapsed.TotalSeconds : 0;
        var left = study.TrialCount - ended;
        var eta = study.Status != StudyStatus.Running ? ""
            : left == 0 ? ", fitting the final laws"
            : pace > 0 ? $", about {TimeSpan.FromSeconds(Math.Ceiling(left / pace)):g} left" : "";
        var deviations = study.CrediblePredictions.Count(p => p.IsDeviation);
        var runningText = running.Count == 0 ? "" :
            "; running " + string.Join(", ", running.Take(4).Select(t => $"w{t.Width} lr {Numbers.Format(t.LearningRate)} s{t.Seed}")) +
            (running.Count > 4 ? $" and {running.Count - 4} more" : "");
        return $"{ended}/{study.TrialCount} trials ended{runningText}{eta}; {study.FitCount} fits, {deviations} deviation(s)";
    }
}
