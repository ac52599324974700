using ScalingLedger.Web;

namespace ScalingLedger.Server.Studies;

/// <summary><c>GET /api/compare?ids=a,b</c>: two or more studies side by side (laws with agreement, grid cells, spec differences).</summary>
public static class CompareStudies
{
    public static async Task<IResult> Handle(HttpRequest request, ILedgerQueries queries, CancellationToken cancel)
    {
        var raw = request.Query["ids"].ToString();
        if (!StudyIds.TryParseTwoOrMore(raw, out var ids, out var problem))
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["ids"] = [problem] });
        var (comparison, _, missing) = await queries.CompareAsync(ids, cancel);
        return missing.Count > 0
            ? TypedResults.Problem($"No study {string.Join(", ", missing)}.", statusCode: 404)
            : TypedResults.Ok(comparison);
    }
}
