using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary><c>GET /api/compare?ids=a,b</c>: two or more studies side by side (laws with agreement, grid cells, spec differences).</summary>
public static class CompareStudies
{
    public static async Task<IResult> Handle(HttpRequest request, ILedgerQueries queries, CancellationToken cancel)
    {
        var raw = request.Query["ids"].ToString();
        if (!TryParseIds(raw, out var ids, out var problem))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [problem] });
        var (comparison, missing) = await queries.CompareAsync(ids, cancel);
        return missing.Count > 0
            ? TypedResults.Problem($"No study {string.Join(", ", missing)}.", statusCode: 404)
            : TypedResults.Ok(comparison);
    }

    /// <summary>Two or more distinct study ids, separated by commas; otherwise a sentence naming what is wrong.</summary>
    public static bool TryParseIds(string? raw, out IReadOnlyList<Guid> ids, out string problem)
    {
        var parsed = new List<Guid>();
        ids = parsed;
        problem = "";
        foreach (var part in (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Guid.TryParse(part, out var id))
            {
                problem = $"ids must be study ids separated by commas; '{part}' is not a study id.";
                return false;
            }
            if (!parsed.Contains(id)) parsed.Add(id);
        }
        if (parsed.Count < 2)
        {
            problem = $"ids must name at least two different studies (got {parsed.Count}), e.g. ?ids=<id1>,<id2>.";
            return false;
        }
        return true;
    }
}
