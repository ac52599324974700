using System.Diagnostics;
using ScalingLedger.Contracts;

namespace ScalingLedger.Trainer.Worker;

/// <summary>
/// Sends a trial's reports in order, gathering its checkpoints into one <see cref="LossCheckpointsRecorded"/> message
/// per <see cref="MaxCheckpoints"/> or per <see cref="MaxDelay"/>, whichever comes first; any other report (a start, an
/// end) first sends what is gathered, so the order the ledger sees is the order of training.
/// </summary>
public sealed class ReportBuffer(Action<object> send)
{
    public const int MaxCheckpoints = 64;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);

    private readonly List<LossCheckpointRecorded> checkpoints = [];
    private readonly Stopwatch sinceFirst = new();

    public void Report(object report)
    {
        if (report is LossCheckpointRecorded checkpoint)
        {
            if (checkpoints.Count > 0 && checkpoints[0].TrialId != checkpoint.TrialId) Flush();
            if (checkpoints.Count == 0) sinceFirst.Restart();
            checkpoints.Add(checkpoint);
            if (checkpoints.Count >= MaxCheckpoints || sinceFirst.Elapsed >= MaxDelay) Flush();
            return;
        }
        Flush();
        send(report);
    }

    /// <summary>Sends the gathered checkpoints (one alone as itself).</summary>
    public void Flush()
    {
        if (checkpoints.Count == 0) return;
        send(checkpoints.Count == 1 ? checkpoints[0] : new LossCheckpointsRecorded(checkpoints[0].StudyId, checkpoints[0].TrialId, checkpoints.ToList()));
        checkpoints.Clear();
    }
}
