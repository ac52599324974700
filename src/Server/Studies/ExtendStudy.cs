using System.Data;
using System.Security.Claims;
using Marten;
using Microsoft.Extensions.Options;
using ScalingLedger.Contracts;
using ScalingLedger.Domain;
using ScalingLedger.Domain.Fitting;
using ScalingLedger.Domain.Laws;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Hosting;
using ScalingLedger.Server.Outbox;
using ScalingLedger.Server.ReadSide;

namespace ScalingLedger.Server.Studies;

/// <summary>
/// <c>POST /api/studies/{id}/extend</c> <c>{"widths": [4096], "seeds": [0, 1], "fixedRates": [0.001], "reason": "..."}</c>: adds
/// widths to a study that is running or has completed, each trained at rates chosen where its laws point
/// (<see cref="ExtensionPlan"/>). The laws are refitted to the evidence the study has, claiming at the new widths, outside the study's
/// writer (a refit's cost); the fits, <see cref="StudyExtended"/> and the predictions at the new widths are then recorded in one
/// transaction, so every prediction precedes the trials it is about. Its owner, managers and admins may.
/// </summary>
public static class ExtendStudy
{
    /// <summary>What an extension recorded: each width's rates and why, the seeds, the trials and predictions added, and notes (a capped ladder).</summary>
    public sealed record ExtensionAnswer(Guid Id, StudyStatus Status, IReadOnlyList<ExtendedWidth> Widths, IReadOnlyList<int> Seeds, int Trials,
        int Predictions, IReadOnlyList<string> Notes);

    public static async Task<IResult> Handle(Guid id, ExtensionRequest? request, HttpContext context, ClaimsPrincipal principal, StudyWriter writer,
        TrialReconciler reconciler, IDocumentStore store, LedgerQueries queries, HeavyReads heavy, IOptions<LedgerOptions> options, TimeProvider clock,
        CancellationToken cancel)
    {
        if (await queries.GetSummaryAsync(id, cancel) is not { } study)
            return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        if (!StudyAccess.CanManage(principal, study)) return StudyAccess.Refused(study, "extend it");
        if (study.Spec is not { } spec) return Conflict("the study's runs were trained elsewhere: it has no grid to extend");
        var errors = ExtensionPlan.Validate(request, spec);
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: $"The extension has {errors.Count} invalid field(s); nothing was stored.");
        if (study.Status == StudyStatus.Cancelled) return Conflict($"the study was cancelled by {study.CancelledBy}: a cancelled study stays stopped");

        // Refitting a study's laws costs what a refit costs (seconds for the slow laws of a large study): a turn as a heavy read takes.
        using var turn = await heavy.EnterAsync(cancel);
        if (turn is null) return HeavyReads.Busy(context);
        EvidenceState? state;
        await using (var snapshot = await store.QuerySerializableSessionAsync(
            new Marten.Services.SessionOptions { IsolationLevel = IsolationLevel.RepeatableRead }, cancel))
            state = await StudyDocuments.EvidenceStateAsync(snapshot, id, cancel);
        if (state is null) return TypedResults.Problem($"No study {id}.", statusCode: StatusCodes.Status404NotFound);
        var by = LedgerUser.NameOf(principal);
        var fitOptions = new FitOptions(new BootstrapOptions(MaxDegreeOfParallelism: Math.Max(1, options.Value.RefitThreads)));
        var (decided, refusal) = ExtensionPlan.Decide(state, request!, Guid.CreateVersion7, by, clock.GetUtcNow(), fitOptions);
        if (refusal is not null) return Conflict(refusal);

        var extended = decided.OfType<StudyExtended>().Single();
        var recorded = await writer.DecideAsync(id, by, null, async session =>
        {
            // Decided from a snapshot: recorded only while the study still takes it (not cancelled since, no width added meanwhile).
            // Nor while a refit was recorded since the snapshot: the extension's fits name the snapshot's as their base, and a fit based
            // on one that is no longer the newest would have its evidence reassembled wrongly.
            var now = await StudyDocuments.SummaryAsync(session, id, cancel);
            var widths = now?.Spec?.Model?.Widths ?? [];
            var latest = (await StudyDocuments.LawsAsync(session, id, cancel))?.LatestFits.Select(f => f.FitId).ToHashSet() ?? [];
            var unchanged = latest.SetEquals(state.LatestFits.Select(f => f.FitId));
            return now is { Status: not StudyStatus.Cancelled } && unchanged && !extended.Widths.Any(w => widths.Contains(w.Width)) ? decided : [];
        }, CancellationToken.None);
        if (recorded.Count == 0)
            return Conflict("the study changed while the extension was decided (cancelled, refitted, or extended by the same widths): " +
                "nothing was stored; ask again");
        reconciler.Poke();
        var notes = extended.Widths.Where(w => w.Capped).Select(w =>
            $"width {w.Width}: the ladder was capped at {ExtensionPlan.MaxLadder} rates (or at rate {ExtensionPlan.MaxRate}); it does not reach one rung " +
            $"beyond the interval {Numbers.Format(w.Lower)} to {Numbers.Format(w.Upper)}").ToList();
        return TypedResults.Accepted($"/api/studies/{id}", new ExtensionAnswer(id, StudyStatus.Running, extended.Widths, extended.Seeds, extended.Trials.Count,
            recorded.OfType<PredictionIssued>().Count(), notes));
    }

    private static IResult Conflict(string why) =>
        TypedResults.Problem($"The study cannot be extended: {why}.", statusCode: StatusCodes.Status409Conflict, title: "Not extended; nothing was stored.");
}
