using System.Collections.Concurrent;
using Marten;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Server.ReadSide;

/// <summary>
/// The studies as a Server last assembled them (a study now with its trials' newest checkpoints or none, for the pages, the
/// compare page and the API), kept by the version of the study's stream: every document a study is assembled from is kept
/// inline from the events of its one stream, so while the version is the same the study is the same. A read of an unchanged
/// study costs one indexed row instead of reading every trial (about 200 ms for 4,320 trials): the prerendered page and its
/// circuit read a study once between them, every browser
/// that opens it after that reads it from here, and the warm-up's read serves the first page after a start. The version
/// is read before the documents, so a view kept is never older than its version says (a change committed in between is
/// read, and the next read of the newer version assembles it again). The views are shared: nobody changes one (a reader's
/// redacted answer is a copy, <see cref="Access.FailureDetails"/>). A running study changes with every report, so its
/// pages gain little here; a study that has ended, or rests between reports, is read once.
/// </summary>
public sealed class AssembledStudies
{
    /// <summary>The studies kept at most; past that the oldest are forgotten, all at once.</summary>
    private const int Kept = 16;

    private readonly ConcurrentDictionary<(Guid Study, TrialDetail Detail), (long Version, StudyView View)> kept = new();

    private int reused;

    /// <summary>Assemblies avoided (for tests).</summary>
    public int Reused => reused;

    public async Task<StudyView?> GetAsync(IQuerySession session, Guid studyId, TrialDetail detail, CancellationToken cancel)
    {
        // Every checkpoint of every trial (the API's whole study) is read for each asker, never kept: it can be large.
        if (detail == TrialDetail.AllCheckpoints || (await session.Events.FetchStreamStateAsync(studyId, cancel))?.Version is not { } version)
            return await StudyDocuments.StudyAsync(session, studyId, detail, cancel);
        if (kept.TryGetValue((studyId, detail), out var known) && known.Version == version)
        {
            Interlocked.Increment(ref reused);
            return known.View;
        }
        var view = await StudyDocuments.StudyAsync(session, studyId, detail, cancel);
        if (view is null) return null;
        if (kept.Count >= Kept) kept.Clear();
        kept[(studyId, detail)] = (version, view);
        return view;
    }
}
