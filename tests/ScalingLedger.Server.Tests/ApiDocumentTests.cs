using System.Diagnostics;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The API document (<c>/openapi/v1.json</c>) as a generated client or a reader meets it: every operation named (its id),
/// summarised, with its problem answers and its security; and it passes the recommended rules of Redocly's linter
/// (installed by ./test.sh into tools/openapi) with no error.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ApiDocumentTests(PostgresFixture pg, ITestOutputHelper output)
{
    [Fact]
    public async Task every_operation_is_named_summarised_and_answers_problems_and_the_document_passes_the_linter()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var json = await app.CreateClient().GetStringAsync("/openapi/v1.json");
        var document = JsonNode.Parse(json)!;

        var operations = document["paths"]!.AsObject()
            .SelectMany(path => path.Value!.AsObject().Select(op => (Where: $"{op.Key.ToUpperInvariant()} {path.Key}", Operation: op.Value!))).ToList();
        operations.Count.ShouldBeGreaterThanOrEqualTo(18);
        foreach (var (where, operation) in operations)
        {
            (operation["operationId"]?.GetValue<string>()).ShouldNotBeNullOrWhiteSpace($"{where} has no operation id");
            (operation["summary"]?.GetValue<string>()).ShouldNotBeNullOrWhiteSpace($"{where} has no summary");
            var answers = operation["responses"]!.AsObject().Select(r => r.Key).ToList();
            answers.ShouldContain(code => code.StartsWith('2'), $"{where} documents no success answer");
            answers.ShouldContain(code => code.StartsWith('4'), $"{where} documents no 4xx answer");
            answers.ShouldContain("500", $"{where} documents no 500 answer");
            operation["security"].ShouldNotBeNull($"{where} says nothing of its security");
            // A client generated from the document gets a type for every answer with a body, and knows what it sends.
            foreach (var (code, response) in operation["responses"]!.AsObject().Where(r => r.Key != "204"))
            {
                var schema = response!["content"]?.AsObject().FirstOrDefault().Value?["schema"];
                schema.ShouldNotBeNull($"{where} answers {code} with no schema");
            }
            if (where.StartsWith("POST", StringComparison.Ordinal))
            {
                var body = operation["requestBody"]?["content"];
                body.ShouldNotBeNull($"{where} declares no request body");
                answers.ShouldContain("413", $"{where} does not say a body past the limit is refused");
                answers.ShouldContain("415", $"{where} does not say a body of another type is refused");
                body.AsObject().Select(m => m.Value!["schema"]!["oneOf"]).ShouldAllBe(o => o == null, $"{where}'s body may be null");
            }
        }
        // A number is a number: no schema says one may be sent or answered as text ("integer or string" with a pattern).
        var textNumbers = Descendants(document).OfType<JsonObject>()
            .Where(n => n["type"] is JsonArray types && types.Any(t => t!.ToString() == "string") && types.Any(t => t!.ToString() is "integer" or "number"))
            .Select(n => n.GetPath()).ToList();
        textNumbers.ShouldBeEmpty("numbers declared as integer or string");
        operations.Select(o => o.Operation["operationId"]!.GetValue<string>()).ShouldBeUnique();
        // The parameters a handler reads itself (to name a bad value) are declared, with their types.
        JsonNode Parameter(string operationId, string name) => operations.Single(o => o.Operation["operationId"]!.GetValue<string>() == operationId)
            .Operation["parameters"]?.AsArray().SingleOrDefault(p => p!["name"]!.GetValue<string>() == name)
            ?? throw new ShouldAssertException($"{operationId} does not declare its parameter {name}");
        foreach (var (operation, name) in new[] { ("getStudy", "asOf"), ("listStudies", "offset"), ("listStudies", "limit"), ("listStudyEvents", "after"),
                     ("listStudyEvents", "limit") })
        {
            Parameter(operation, name)["schema"]!["type"]!.ToString().ShouldBe("integer", $"{operation}'s {name}");
            operations.Single(o => o.Operation["operationId"]!.GetValue<string>() == operation).Operation["parameters"]!.AsArray()
                .Count(p => p!["name"]!.GetValue<string>() == name).ShouldBe(1, $"{operation} declares {name} once");
        }
        Parameter("getStudy", "checkpoints")["schema"]!["enum"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldBe(["all", "last", "none"]);
        Parameter("compareStudies", "ids")["required"]!.GetValue<bool>().ShouldBeTrue();
        Parameter("cancelStudy", "reason").ShouldNotBeNull();
        // A body whose every setting has a default may be left out; one whose fields are named when missing is required.
        bool Required(string operationId) => operations.Single(o => o.Operation["operationId"]!.GetValue<string>() == operationId)
            .Operation["requestBody"]?["required"]?.GetValue<bool>() ?? false;
        Required("requestCoordinateCheck").ShouldBeFalse();
        Required("cancelStudy").ShouldBeFalse();
        foreach (var operation in new[] { "extendStudy", "grantStudyAccess", "createToken", "trustLedger", "defineStudy" })
            Required(operation).ShouldBeTrue($"{operation}'s body");
        document["components"]!["securitySchemes"]!["bearer"]!["scheme"]!.GetValue<string>().ShouldBe("bearer");
        document["paths"]!["/health"]!["get"]!["security"]!.AsArray().ShouldBeEmpty("the health check answers anyone");

        var tool = Path.Combine(SiteBrowserTests.RepositoryRoot(), "tools", "openapi");
        var redocly = Path.Combine(tool, "node_modules", ".bin", "redocly");
        File.Exists(redocly).ShouldBeTrue($"the linter is not installed: run 'npm ci --prefix tools/openapi' (./test.sh does)");
        var file = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, json);
        try
        {
            var psi = new ProcessStartInfo(redocly) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tool };
            foreach (var a in new[] { "lint", file, "--config", Path.Combine(tool, "redocly.yaml") }) psi.ArgumentList.Add(a);
            psi.Environment["REDOCLY_TELEMETRY"] = "off";
            psi.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            using var lint = Process.Start(psi)!;
            var stdout = lint.StandardOutput.ReadToEndAsync();
            var stderr = lint.StandardError.ReadToEndAsync();
            await lint.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
            var said = await stdout + await stderr;
            output.WriteLine(said);
            lint.ExitCode.ShouldBe(0, $"the linter found errors in the API document:\n{said}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node) => node switch
    {
        JsonObject o => o.Select(p => p.Value).OfType<JsonNode>().SelectMany(Descendants).Prepend(o),
        JsonArray a => a.OfType<JsonNode>().SelectMany(Descendants).Prepend(a),
        _ => [node],
    };
}
