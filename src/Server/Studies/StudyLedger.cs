using Marten;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Infrastructure;
using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>The only writer of the ledger: every event of a study is appended here.</summary>
public sealed class StudyLedger(IDocumentStore store, LedgerChanges changes, TimeProvider clock, ILogger<StudyLedger> log)
{
    public async Task<StudyDefined> DefineAsync(StudySpec spec, string user, CancellationToken cancel)
    {
        var normalized = GridPlanner.Normalize(spec);
        var studyId = Guid.CreateVersion7();
        var defined = new StudyDefined(studyId, normalized, GridPlanner.Plan(normalized, Guid.CreateVersion7), user, clock.GetUtcNow());
        await using var session = store.LightweightSession();
        session.LastModifiedBy = user;
        session.CorrelationId = studyId.ToString();
        session.Events.StartStream<StudyView>(studyId, defined);
        await session.SaveChangesAsync(cancel);
        changes.Raise(studyId);
        return defined;
    }

    /// <summary>Cancels a running study. Returns null when there is no such study.</summary>
    public Task<StudyView?> CancelAsync(Guid studyId, string user, string? reason, CancellationToken cancel) =>
        WriteAsync(studyId, user, null, view => StudyDecisions.DecideCancel(view, user, reason, clock.GetUtcNow()), cancel);

    /// <summary>
    /// Records a trainer's report once (a redelivery records nothing), then refits the laws the new evidence touches
    /// and completes the study when every trial has ended.
    /// </summary>
    /// <returns>The trials to run again as a new attempt (a failed attempt below the limit), with their commands.</returns>
    public async Task<IReadOnlyList<RunTrial>> RecordReportAsync(object report, string worker, Guid studyId, CancellationToken cancel, string? causation = null)
    {
        IReadOnlyList<object> recorded = [];
        var before = await WriteAsync(studyId, worker, causation, view => recorded = StudyDecisions.DecideReport(view, report), cancel);
        var retries = before?.Spec is { } spec
            ? StudyDecisions.TrialsToRetry(before, recorded)
                .Select(r => GridPlanner.ToCommand(studyId, spec, new PlannedTrial(r.Trial.TrialId, r.Trial.Order, r.Trial.Width, r.Trial.LearningRate, r.Trial.Seed), r.Attempt))
                .ToList()
            : [];
        foreach (var failed in recorded.OfType<TrialAttemptFailed>())
            log.LogWarning("Trial {TrialId}: attempt {Attempt} failed ({Error}); running it again as attempt {Next}",
                failed.TrialId, failed.Attempt, failed.Error, failed.Attempt + 1);
        // Refit after every ending report, even a redelivered one: if the refit after the first delivery was lost,
        // this one repairs it (refitting the same evidence records nothing).
        if (report is TrialCompleted or TrialDiverged or TrialFailed or TrialCancelled)
        {
            var view = await RefitAsync(studyId, cancel);
            if (view is not null) LogProgress(view, report);
        }
        return retries;
    }

    /// <summary>Appends a fit for every law whose evidence changed, and StudyCompleted when the grid is done.</summary>
    public Task<StudyView?> RefitAsync(Guid studyId, CancellationToken cancel) =>
        WriteAsync(studyId, "reactor", null, view =>
        {
            var now = clock.GetUtcNow();
            var events = new List<object>();
            // First what the new evidence resolves, then the new fits and what they predict about points still unseen.
            events.AddRange(PredictionDecisions.Resolve(view, now));
            var fits = LawEngine.NewFits(view).Select(f => LawEngine.ToEvent(studyId, f, Guid.CreateVersion7(), view.LastSequence, now)).ToList();
            events.AddRange(fits);
            events.AddRange(PredictionDecisions.Issue(view, fits, Guid.CreateVersion7, now));
            events.AddRange(StudyDecisions.DecideCompletion(view, now));
            return events;
        }, cancel);

    /// <summary>Ends the trials that started too often without ending (see <see cref="StudyDecisions.DecideGiveUp"/>).</summary>
    public async Task GiveUpStuckTrialsAsync(Guid studyId, CancellationToken cancel)
    {
        var stuck = 0;
        await WriteAsync(studyId, "recovery", null, view =>
        {
            var events = StudyDecisions.DecideGiveUp(view, clock.GetUtcNow());
            stuck = events.Count;
            return events;
        }, cancel);
        if (stuck > 0)
        {
            log.LogWarning("Study {StudyId}: {Count} trial(s) started {Max} times without ending; recorded as failed", studyId, stuck, StudyDecisions.MaxAttempts);
            await RefitAsync(studyId, cancel);
        }
    }

    /// <summary>Records a study of runs trained elsewhere and fits its laws.</summary>
    public async Task<StudyImported> ImportAsync(string name, string owner, IReadOnlyList<Domain.Imports.ImportedRunRow> rows,
        IReadOnlyList<string> columns, string user, CancellationToken cancel)
    {
        var studyId = Guid.CreateVersion7();
        var runs = rows.Select((r, i) => new ImportedRun(Guid.CreateVersion7(), i, r.Line, r.Width is { } w ? (int)w : null, r.Params, r.Tokens,
            r.LearningRate, r.Seed, r.Loss)).ToList();
        var imported = new StudyImported(studyId, name, owner, runs, columns, user, clock.GetUtcNow());
        await using (var session = store.LightweightSession())
        {
            session.LastModifiedBy = user;
            session.CorrelationId = studyId.ToString();
            session.Events.StartStream<StudyView>(studyId, imported);
            await session.SaveChangesAsync(cancel);
        }
        changes.Raise(studyId);
        await RefitAsync(studyId, cancel);
        return imported;
    }

    private void LogProgress(StudyView view, object report)
    {
        var trial = report switch
        {
            TrialCompleted e => view.Trial(e.TrialId),
            TrialDiverged e => view.Trial(e.TrialId),
            TrialFailed e => view.Trial(e.TrialId),
            TrialCancelled e => view.Trial(e.TrialId),
            _ => null,
        };
        if (trial is null) return;
        log.LogInformation("Study {Name}: width {Width}, lr {LearningRate}, seed {Seed} {Outcome} ({Ended}/{Total} trials ended)",
            view.Name, trial.Width, trial.LearningRate, trial.Seed, report.GetType().Name.Replace("Trial", "").ToLowerInvariant(),
            view.Trials.Count(t => t.IsTerminal), view.Trials.Count);
    }

    private async Task<StudyView?> WriteAsync(Guid studyId, string user, string? causation, Func<StudyView, IReadOnlyList<object>> decide, CancellationToken cancel)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var session = store.LightweightSession();
            session.LastModifiedBy = user;
            session.CorrelationId = studyId.ToString();
            session.CausationId = causation;
            var stream = await session.Events.FetchForWriting<StudyView>(studyId, cancel);
            if (stream.Aggregate is null) return null;
            var events = decide(stream.Aggregate);
            if (events.Count == 0) return stream.Aggregate;
            stream.AppendMany(events);
            try
            {
                await session.SaveChangesAsync(cancel);
                changes.Raise(studyId);
                return stream.Aggregate;
            }
            catch (JasperFx.ConcurrencyException) when (attempt < 5)
            {
                log.LogDebug("Study {StudyId} changed while writing; retrying ({Attempt})", studyId, attempt);
            }
        }
    }
}

/// <summary>In-process notification of committed study changes.</summary>
public sealed class LedgerChanges : ILedgerChanges
{
    public event Action<Guid>? StudyChanged;

    public void Raise(Guid studyId) => StudyChanged?.Invoke(studyId);
}
