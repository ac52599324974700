namespace ScalingLedger.Domain.Studies;

/// <summary>A trial command this process sent on its in-memory bus, and whether the trial has started since.</summary>
/// <param name="StartedAt">When the trial's run started (null: still scheduled).</param>
/// <param name="Resent">How many times the command was sent again because it was judged lost.</param>
public sealed record SentCommand(Guid TrialId, DateTimeOffset SentAt, DateTimeOffset? StartedAt, int Resent);

/// <summary>
/// Commands lost on the in-memory bus. A trainer with a free slot starts a command as soon as it takes one, so a command still
/// unstarted after the trainer has run nothing for <c>patience</c> was never taken. With one slot its queue also hands commands
/// over in the order they were sent (<c>inOrder</c>): a command still unstarted when one sent after it started more than
/// <c>patience</c> ago was never taken either (with more slots a later command can start first while an earlier one waits for a
/// slot, so this is not evidence there). Such a command is sent again (same attempt), once (<see cref="MaxResends"/>): a
/// command that was only slow makes a second run, which the ledger counts as the next attempt and whose first run it stops
/// (<see cref="TrialRuns.Superseded"/>), so a send again costs at most one of the trial's attempts. Over RabbitMQ a command
/// outlives its sender and a trainer's death hands it to another: this does not apply.
/// </summary>
public static class LostCommands
{
    public const int MaxResends = 1;

    /// <param name="sent">Open trials with a command of their current attempt on this bus.</param>
    /// <param name="lastBusy">When a trial of this bus was last seen running.</param>
    /// <param name="inOrder">The trainer takes one command at a time, in the order they were sent.</param>
    public static IReadOnlyList<Guid> Find(IReadOnlyList<SentCommand> sent, DateTimeOffset lastBusy, DateTimeOffset now, TimeSpan patience,
        bool inOrder = true)
    {
        var idle = now - lastBusy > patience;
        var latestLongStarted = !inOrder ? null : sent.Where(c => c.StartedAt is { } started && now - started > patience)
            .Select(c => (DateTimeOffset?)c.SentAt).Max();
        return sent.Where(c => c.StartedAt is null && c.Resent < MaxResends && now - c.SentAt > patience
                               && (idle || latestLongStarted > c.SentAt))
            .Select(c => c.TrialId).ToList();
    }
}
