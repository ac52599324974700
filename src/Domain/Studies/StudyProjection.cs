using ScalingLedger.Contracts;

namespace ScalingLedger.Domain.Studies;

/// <summary>The pure fold from a study's events to its <see cref="StudyView"/>.</summary>
public static class StudyProjection
{
    public static StudyView Fold(IEnumerable<(object Data, long Sequence)> events)
    {
        StudyView? view = null;
        foreach (var (data, sequence) in events) view = Apply(view, data, sequence);
        return view ?? throw new InvalidOperationException("A study stream must begin with StudyDefined.");
    }

    /// <summary>Applies one event. Returns the same (mutated) view, or a new one for StudyDefined and StudyImported.</summary>
    public static StudyView Apply(StudyView? view, object data, long sequence)
    {
        if (data is StudyDefined defined)
        {
            view = new StudyView
            {
                Id = defined.StudyId,
                Name = defined.Spec.Name ?? "",
                Owner = defined.Spec.Owner ?? "",
                Spec = defined.Spec,
                Status = StudyStatus.Running,
                DefinedAt = defined.DefinedAt,
                Trials = defined.Trials.OrderBy(t => t.Order).Select(t => new TrialView
                {
                    TrialId = t.TrialId, Order = t.Order, Width = t.Width, LearningRate = t.LearningRate, Seed = t.Seed,
                    Status = TrialStatus.Scheduled,
                }).ToList(),
            };
            view.LastSequence = Math.Max(view.LastSequence, sequence);
            return view;
        }

        if (data is StudyImported imported)
        {
            view = new StudyView
            {
                Id = imported.StudyId,
                Name = imported.Name,
                Owner = imported.Owner,
                Source = "imported",
                Status = StudyStatus.Completed,
                DefinedAt = imported.ImportedAt,
                EndedAt = imported.ImportedAt,
                Trials = imported.Runs.OrderBy(r => r.Order).Select(r => new TrialView
                {
                    TrialId = r.TrialId, Order = r.Order, Width = r.Width ?? 0, LearningRate = r.LearningRate ?? 0, Seed = r.Seed ?? 0,
                    Status = TrialStatus.Completed, FinalEvalLoss = r.Loss, Params = r.Params, Tokens = r.Tokens,
                    EndedAt = imported.ImportedAt,
                }).ToList(),
                LastSequence = sequence,
            };
            return view;
        }

        if (view is null) throw new InvalidOperationException($"{data.GetType().Name} arrived before StudyDefined.");
        view.LastSequence = Math.Max(view.LastSequence, sequence);

        switch (data)
        {
            case TrialStarted e when view.Trial(e.TrialId) is { } t:
                t.Status = TrialStatus.Running;
                t.Attempt = e.Attempt;
                t.WorkerId = e.WorkerId;
                t.HostName = e.HostName;
                t.Threads = e.Threads;
                t.CodeVersion = e.CodeVersion;
                t.LibTorchVersion = e.LibTorchVersion;
                t.DatasetSha256 = e.DatasetSha256;
                t.StartedAt = e.StartedAt;
                t.Checkpoints.Clear(); // a new attempt starts its curve again
                break;
            case LossCheckpointRecorded e when view.Trial(e.TrialId) is { } t:
                t.Checkpoints.RemoveAll(c => c.Step == e.Step);
                t.Checkpoints.Add(new CheckpointView(e.Step, e.TrainLoss, e.EvalLoss, e.EvalAccuracy));
                t.Checkpoints.Sort((a, b) => a.Step.CompareTo(b.Step));
                break;
            case TrialCompleted e when view.Trial(e.TrialId) is { } t:
                t.Status = TrialStatus.Completed;
                t.FinalEvalLoss = e.FinalEvalLoss;
                t.FinalEvalAccuracy = e.FinalEvalAccuracy;
                t.ParameterCount = e.ParameterCount;
                t.DurationSeconds = e.DurationSeconds;
                t.EndedAt = e.CompletedAt;
                break;
            case TrialDiverged e when view.Trial(e.TrialId) is { } t:
                t.Status = TrialStatus.Diverged;
                t.EndedAtStep = e.Step;
                t.Reason = e.Reason;
                t.EndedAt = e.DivergedAt;
                break;
            case TrialFailed e when view.Trial(e.TrialId) is { } t:
                t.Status = TrialStatus.Failed;
                t.Reason = e.Error;
                t.FailureDetail = e.Detail;
                t.EndedAt = e.FailedAt;
                break;
            case TrialAttemptFailed e when view.Trial(e.TrialId) is { } t:
                // The trial waits for its next attempt; the failure is kept on the trial (and in the ledger).
                t.Status = TrialStatus.Scheduled;
                t.Attempt = Math.Max(t.Attempt, e.Attempt);
                t.FailedAttempts.Add(new FailedAttemptView(e.Attempt, e.Error, e.Detail, e.FailedAt));
                break;
            case TrialCancelled e when view.Trial(e.TrialId) is { } t:
                t.Status = TrialStatus.Cancelled;
                t.EndedAtStep = e.AtStep;
                t.EndedAt = e.CancelledAt;
                break;
            case StudyCancelled e:
                view.Status = StudyStatus.Cancelled;
                view.CancelledBy = e.CancelledBy;
                view.EndedAt = e.CancelledAt;
                break;
            case StudyCompleted e:
                view.Status = StudyStatus.Completed;
                view.EndedAt = e.CompletedAt;
                break;
            case PredictionIssued e:
                view.Predictions.Add(new PredictionView { Issued = e });
                break;
            case PredictionResolved e when view.Predictions.Find(p => p.Issued.PredictionId == e.PredictionId) is { } p:
                p.Resolution = e;
                break;
            case CoordinateCheckRecorded e:
                view.CoordinateChecks.RemoveAll(c => c.CheckId == e.CheckId);
                view.CoordinateChecks.Add(e);
                break;
            case LawFitted e:
                view.LatestFits.RemoveAll(f => f.Law == e.Law && f.Key == e.Key);
                view.LatestFits.Add(e);
                view.LatestFits.Sort((a, b) => (a.Law, a.Key).CompareTo((b.Law, b.Key)));
                view.FitCount++;
                break;
        }
        return view;
    }
}
