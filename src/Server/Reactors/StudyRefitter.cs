using System.Data;
using Marten;
using Marten.Services;
using Microsoft.Extensions.Options;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.ReadSide;
using ScalingLedger.Server.Studies;

namespace ScalingLedger.Server.Reactors;

/// <summary>
/// Refits one study: reads its evidence in one snapshot, runs the pure <see cref="EvidenceDecider"/> (only laws whose
/// evidence changed are fitted) and appends what it decided. Idempotent: a refit of evidence already fitted records
/// nothing. The bootstrap runs on <see cref="LedgerOptions.RefitThreads"/> threads so that training keeps its cores.
/// </summary>
/// <remarks>Not sealed: the fault tests put a refitter that fails in its place.</remarks>
public class StudyRefitter(IDocumentStore store, StudyWriter writer, TimeProvider clock, IOptions<LedgerOptions> options,
    ILogger<StudyRefitter> log)
{
    private readonly FitOptions fitOptions = new(new BootstrapOptions(MaxDegreeOfParallelism: Math.Max(1, options.Value.RefitThreads)));


    /// <summary>Refits every law of the study (the quick ones first). Returns the events recorded.</summary>
    public async Task<IReadOnlyList<object>> RefitAsync(Guid studyId, CancellationToken cancel) =>
        [.. await RefitAsync(studyId, RefitCost.Quick, cancel), .. await RefitAsync(studyId, RefitCost.Slow, cancel)];

    /// <summary>
    /// Refits the quick laws, or the slow ones (the power laws, seconds each on real losses), and resolves what the evidence
    /// observed of their predictions; each reactor runs one phase, so the quick never wait for the slow.
    /// </summary>
    public virtual async Task<IReadOnlyList<object>> RefitAsync(Guid studyId, RefitCost cost, CancellationToken cancel)
    {
        // One refit of a study and phase at a time in this process: the decision is made from a snapshot outside the writer,
        // so two refits of the same evidence at once (an import's own and the reactor's, which sees the import) each recorded
        // the same fits. The second now waits and finds them in its snapshot. (Across Servers the reactors run on one; an
        // import answered by another can still overlap them.) Striped: a fixed set of gates, whatever the number of studies.
        var gate = gates[(uint)HashCode.Combine(studyId, cost) % (uint)gates.Length];
        await gate.WaitAsync(cancel);
        try
        {
            return await RefitOnceAsync(studyId, cost, cancel);
        }
        finally
        {
            gate.Release();
        }
    }

    private readonly SemaphoreSlim[] gates = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    private async Task<IReadOnlyList<object>> RefitOnceAsync(Guid studyId, RefitCost cost, CancellationToken cancel)
    {
        Func<Law, bool> laws = law => law.Cost == cost;
        EvidenceState? state;
        await using (var snapshot = await store.QuerySerializableSessionAsync(
            new Marten.Services.SessionOptions { IsolationLevel = IsolationLevel.RepeatableRead }, cancel))
            state = await StudyDocuments.EvidenceStateAsync(snapshot, studyId, cancel);
        if (state is null) return [];
        var events = EvidenceDecider.Decide(state, Guid.CreateVersion7, clock.GetUtcNow(), fitOptions, laws).ToList();
        // Appended as decided from the snapshot: the fits name the sequence they saw, so reports that landed since do not
        // invalidate them (they are the next refit's evidence). Nothing decided appends nothing.
        await writer.DecideAsync(studyId, "reactor", null, _ => Task.FromResult<IReadOnlyList<object>>(events), cancel);
        if (state.Trials.All(t => t.IsTerminal) && !events.OfType<Contracts.StudyCompleted>().Any())
        {
            // The other reactor may have recorded its last fits after this one's snapshot: ask again under the study's writer
            // lock, after this one's fits are recorded, so that whichever of the two finishes last completes the study.
            events.AddRange(await writer.DecideAsync(studyId, "reactor", null, async session =>
                await StudyDocuments.EvidenceStateAsync(session, studyId, cancel) is { } now
                    ? EvidenceDecider.DecideCompletion(now, clock.GetUtcNow(), fitOptions)
                    : [], cancel));
        }
        LogRefit(state, events);
        return events;
    }

    private void LogRefit(EvidenceState state, IReadOnlyList<object> events)
    {
        var fits = events.OfType<Contracts.LawFitted>().ToList();
        if (fits.Count > 0)
            log.LogInformation("Study {Name}: {Fits} law(s) refitted at sequence {Sequence} ({Laws})", state.Summary.Name, fits.Count, state.Sequence,
                string.Join(", ", fits.Select(f => f.Key == LawKeys.All ? f.Law : f.Law + " " + f.Key)));
        if (events.OfType<Contracts.StudyCompleted>().Any())
            log.LogInformation("Study {Name} completed: every trial has ended and every law is fitted to the final evidence", state.Summary.Name);
    }
}
