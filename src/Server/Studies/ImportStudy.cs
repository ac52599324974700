using System.Security.Claims;
using Microsoft.AspNetCore.Mvc;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using ScalingLedger.Server.Access;
using ScalingLedger.Server.Reactors;

namespace ScalingLedger.Server.Studies;

/// <summary><c>POST /api/studies/import</c>: a completed study of runs trained elsewhere (a CSV), fitted at once.</summary>
public static class ImportStudy
{
    /// <summary>An imported study: its id, its runs, the columns read and the columns left out.</summary>
    public sealed record ImportedAnswer(Guid Id, int Runs, IReadOnlyList<string> Columns, IReadOnlyList<string> IgnoredColumns);

    public const int MaxImportBytes = 20 * 1024 * 1024;

    public static async Task<IResult> Handle(HttpRequest request, [FromQuery] string? name, [FromQuery] string? owner, ClaimsPrincipal principal,
        StudyWriter writer, StudyRefitter refitter, TimeProvider clock, CancellationToken cancel)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(name)) errors["name"] = ["Name the imported study: ?name=..."];
        else if (TextRules.Problem("name", name) is { } badName) errors["name"] = [$"The {badName}."];
        if (TextRules.Problem("owner", owner, optional: true) is { } badOwner) errors["owner"] = [$"The {badOwner}."];
        if (request.ContentLength is > MaxImportBytes) errors["csv"] = [$"The CSV must be at most {MaxImportBytes / 1024 / 1024} MiB."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors, title: "The import cannot be read.");

        // Streamed: the body is read a line at a time into the parser, never held whole.
        using var reader = new StreamReader(request.Body);
        var csv = new Domain.Imports.RunCsv.Reader();
        long read = 0;
        while (await reader.ReadLineAsync(cancel) is { } line)
        {
            read += line.Length + 1;
            if (read > MaxImportBytes)
            {
                csv.Fail($"The CSV must be at most {MaxImportBytes / 1024 / 1024} MiB.");
                break;
            }
            if (!csv.Add(line)) break;
        }
        var parsed = csv.Result();
        if (parsed.Errors.Count > 0)
            return TypedResults.ValidationProblem(parsed.Errors, title: $"The CSV has {parsed.Errors.Count} problem(s); nothing was imported.");

        var user = LedgerUser.NameOf(principal);
        var studyId = Guid.CreateVersion7();
        var runs = parsed.Rows.Select((r, i) => new ImportedRun(Guid.CreateVersion7(), i, r.Line, r.Width is { } w ? (int)w : null, r.Params, r.Tokens,
            r.LearningRate, r.Seed, r.Loss)).ToList();
        var imported = new StudyImported(studyId, name!.Trim(), StudyAccess.OwnerFor(principal, owner), runs, parsed.Columns, user, clock.GetUtcNow());
        await writer.StartAsync(studyId, imported, user, cancel);
        // The evidence is complete from the start: its laws are fitted before the answer (the reactor finds nothing new).
        await refitter.RefitAsync(studyId, cancel);
        return TypedResults.Created($"/api/studies/{studyId}",
            new ImportedAnswer(studyId, runs.Count, parsed.Columns, parsed.IgnoredColumns));
    }
}
