using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary>In-process notification of committed study changes.</summary>
public sealed class LedgerChanges : ILedgerChanges
{
    public event Action<Guid>? StudyChanged;

    public void Raise(Guid studyId) => StudyChanged?.Invoke(studyId);
}
