namespace ScalingLedger.Web;

/// <summary>The study ids of a comparison, as an address or the API gives them (<c>?ids=a,b</c>).</summary>
public static class StudyIds
{
    /// <summary>The most studies one comparison shows (each brings its laws, grid and calibration).</summary>
    public const int MaxStudies = 8;

    /// <summary>Two or more distinct study ids, separated by commas; otherwise a sentence naming what is wrong.</summary>
    public static bool TryParseTwoOrMore(string? raw, out IReadOnlyList<Guid> ids, out string problem)
    {
        var parsed = new List<Guid>();
        ids = parsed;
        problem = "";
        foreach (var part in (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Guid.TryParse(part, out var id))
            {
                problem = $"ids must be study ids separated by commas; '{(part.Length > 40 ? part[..40] + "…" : part)}' is not a study id.";
                return false;
            }
            if (!parsed.Contains(id)) parsed.Add(id);
            if (parsed.Count > MaxStudies)
            {
                problem = $"ids may name at most {MaxStudies} studies.";
                return false;
            }
        }
        if (parsed.Count < 2)
        {
            problem = $"ids must name at least two different studies (got {parsed.Count}), e.g. ?ids=<id1>,<id2>.";
            return false;
        }
        return true;
    }
}
