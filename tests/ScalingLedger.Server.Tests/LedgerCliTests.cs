using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Parquet.Serialization;
using ScalingLedger.Cli;
using ScalingLedger.Cli.Reports;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;
using SkiaSharp;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The <c>ledger</c> command line against a real Server on a real database: a study submitted and followed to its end on
/// real Fashion-MNIST, its report drawn, its events exported and imported into an empty ledger where it verifies, and its
/// errors. The client is checked against the Server's own OpenAPI document.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerCliTests(PostgresFixture pg, ITestOutputHelper output)
{
    /// <summary>What one run of <c>ledger</c> printed and returned.</summary>
    private sealed record Run(int Exit, string Out, string Err)
    {
        public JsonNode Json => JsonNode.Parse(Out)!;
    }

    private static async Task<Run> LedgerAsync(LedgerApp app, params string[] args)
    {
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        var bytes = new MemoryStream();
        var context = new CliContext
        {
            Out = stdout, Err = stderr, Interactive = false, Handler = app.Server.CreateHandler(), PollEvery = TimeSpan.FromMilliseconds(200),
            Environment = _ => null, OpenStandardOutput = () => new NonClosing(bytes),
        };
        var exit = await LedgerCli.RunAsync(args, context);
        var text = stdout.ToString() + Encoding.UTF8.GetString(bytes.ToArray());
        return new Run(exit, text, stderr.ToString());
    }

    /// <summary>Standard output as a test keeps it: the command closes its stream, the test reads it after.</summary>
    private sealed class NonClosing(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    [Fact]
    public async Task every_client_method_calls_an_operation_of_the_servers_own_document()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var document = JsonNode.Parse(await app.CreateClient().GetStringAsync("/openapi/v1.json"))!;
        var operations = LedgerClient.Operations().ToList();
        operations.Count.ShouldBeGreaterThan(10);
        foreach (var (method, operation) in operations)
        {
            var path = document["paths"]![operation.Path];
            path.ShouldNotBeNull($"{method.Name}: the document has no path {operation.Path}");
            path[operation.Method.ToLowerInvariant()]?["operationId"]?.GetValue<string>()
                .ShouldBe(operation.Id, $"{method.Name}: {operation.Method} {operation.Path} is not the operation it names");
        }
    }

    [Fact]
    public async Task extend_adds_a_width_at_the_rates_the_laws_point_to_and_status_says_who_when_why_and_which_rates()
    {
        await using var app = await pg.NewLedgerAsync();
        var client = app.CreateClient();
        var spec = StudyApi.TinySpec("extend-cli", widths: [2, 3, 4, 5], rates: [0.0003, 0.003, 0.03, 0.3], steps: 20);
        spec["seeds"] = new JsonArray(0, 1);
        var id = await StudyApi.DefineAsync(client, spec);
        await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromMinutes(4));
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromMinutes(1));

        (await LedgerAsync(app, "extend", "extend-cli", "--widths", "eight")).Exit.ShouldBe(ExitCodes.Usage);
        var refused = await LedgerAsync(app, "extend", "extend-cli", "--widths", "4");
        refused.Exit.ShouldBe(ExitCodes.Refused, refused.Out);
        refused.Err.ShouldContain("already in the study");

        var extended = await LedgerAsync(app, "extend", "extend-cli", "--widths", "8", "--fixed-rates", "0.003", "--reason", "one doubling on");
        output.WriteLine(extended.Out);
        extended.Exit.ShouldBe(ExitCodes.Ok, extended.Err);
        extended.Out.ShouldContain($"Study {id} extended");
        extended.Out.ShouldContain("width 8: ");
        extended.Out.ShouldContain("(ladder)");
        extended.Out.ShouldContain("fixed)");
        var status = await LedgerAsync(app, "status", "extend-cli");
        output.WriteLine(status.Out);
        status.Out.ShouldContain("extended by local");
        status.Out.ShouldContain("why: one doubling on");
        status.Out.ShouldContain("width 8: ");
        (await LedgerAsync(app, "status", "extend-cli", "--json")).Json["extensions"]!.AsArray().Count.ShouldBe(1);
    }

    [Fact]
    public async Task a_study_submitted_and_waited_for_is_reported_exported_and_imported_into_an_empty_ledger_where_it_verifies()
    {
        await using var source = await pg.NewLedgerAsync();
        // Another study first: the study's events sit at other global sequences here than in the empty ledger it moves to, and
        // its fits and predictions name sequences of this ledger.
        await StudyApi.ImportAsync(source.CreateClient(), "earlier");
        var spec = Path.Combine(Path.GetTempPath(), $"cli-spec-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(spec, StudyApi.TinySpec("cli-study", widths: [4, 8, 16], rates: [0.001, 0.01], steps: 30).ToJsonString());

        // submit --wait: progress on standard error, the laws at the end.
        var clock = Stopwatch.StartNew();
        var submitted = await LedgerAsync(source, "submit", spec, "--wait");
        output.WriteLine($"submit --wait: exit {submitted.Exit} after {clock.Elapsed.TotalSeconds:F1} s\n{submitted.Err}\n{submitted.Out}");
        submitted.Exit.ShouldBe(ExitCodes.Ok, submitted.Err);
        submitted.Err.ShouldContain("0/6 trials ended");
        submitted.Err.ShouldContain("6/6 trials ended");
        submitted.Out.ShouldContain("Study cli-study completed.");
        submitted.Out.ShouldContain("parameters (95% bootstrap interval)");
        var id = Guid.Parse(submitted.Out.Split("defined: ")[1][..36]);

        var studies = await LedgerAsync(source, "studies", "--json");
        studies.Exit.ShouldBe(ExitCodes.Ok);
        studies.Json.AsArray().Select(s => s!["name"]!.GetValue<string>()).Order().ShouldBe(["cli-study", "earlier"]);
        (await LedgerAsync(source, "status", "cli-study")).Out.ShouldContain("6 completed");

        // The report: every figure a real picture, and the markdown names them and the laws.
        var dir = Path.Combine(Path.GetTempPath(), $"cli-report-{Guid.NewGuid():N}");
        var report = await LedgerAsync(source, "report", id.ToString(), "--out", dir);
        report.Exit.ShouldBe(ExitCodes.Ok, report.Err);
        var pngs = Directory.GetFiles(dir, "*.png");
        pngs.Select(Path.GetFileNameWithoutExtension).ShouldContain("a-loss-vs-width");
        pngs.Select(Path.GetFileNameWithoutExtension).ShouldContain("c-heatmap");
        pngs.Select(Path.GetFileNameWithoutExtension).ShouldContain("calibration");
        pngs.Length.ShouldBeGreaterThanOrEqualTo(7, "four panels, a belief history of each law that predicted, the slope and the calibration");
        foreach (var png in pngs)
        {
            using var bitmap = SKBitmap.Decode(png);
            bitmap.Width.ShouldBe(1000, png);
            bitmap.Height.ShouldBe(620, png);
            DistinctColours(bitmap).ShouldBeGreaterThan(50, $"{png} is blank");
            File.Exists(Path.ChangeExtension(png, ".svg")).ShouldBeTrue();
            XDocumentLoads(Path.ChangeExtension(png, ".svg"));
        }
        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "README.md"));
        markdown.ShouldContain("# cli-study");
        markdown.ShouldContain("## Laws");
        markdown.ShouldContain("![(a) Final loss against width, per learning rate](a-loss-vs-width.png)");

        // Tables of the trials.
        var csv = await LedgerAsync(source, "export", "cli-study", "--format", "csv");
        csv.Exit.ShouldBe(ExitCodes.Ok, csv.Err);
        var lines = csv.Out.Trim().Split('\n');
        lines.Length.ShouldBe(7);
        lines[0].ShouldStartWith("trialId,width,learningRate,seed,status,attempt,loss,");
        var parquetFile = Path.Combine(dir, "trials.parquet");
        (await LedgerAsync(source, "export", "cli-study", "--format", "parquet", "--out", parquetFile)).Exit.ShouldBe(ExitCodes.Ok);
        var rows = (await ParquetSerializer.DeserializeAsync<TrialRow>(parquetFile)).Data;
        rows.Count.ShouldBe(6);
        rows.ShouldAllBe(r => r.Status == "Completed" && r.Loss > 0 && r.Width > 0);
        // Each row's N, D and C: the model's weights and biases (2 hidden layers), 30 steps of the spec's batch, 6 N D.
        var batch = StudyApi.TinySpec()["batchSize"]!.GetValue<int>();
        rows.ShouldAllBe(r => r.ParameterCount == TrialScale.MlpParameters(784, 2, r.Width, 10) && r.ExamplesSeen == 30 * batch
            && r.TrainingFlops == 6.0 * r.ParameterCount!.Value * 30 * batch);
        lines[0].ShouldEndWith(",reason,examplesSeen,trainingFlops");

        // The events, into an empty ledger.
        var eventsFile = Path.Combine(dir, "study.events.json");
        var exported = await LedgerAsync(source, "export", "cli-study", "--format", "events", "--out", eventsFile);
        exported.Exit.ShouldBe(ExitCodes.Ok, exported.Err);
        var export = JsonNode.Parse(await File.ReadAllTextAsync(eventsFile))!;
        var head = $"{export["head"]!["version"]}:{export["head"]!["hash"]}";
        await using var target = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        // The ledger it moves to trusts the one it comes from: its admin adds the other's key, as `ledger identity` prints it there.
        var identity = await LedgerAsync(source, "identity", "--json");
        identity.Exit.ShouldBe(ExitCodes.Ok, identity.Err);
        var trusted = await LedgerAsync(target, "trust", "add", "lab-a", identity.Json["publicKey"]!.GetValue<string>());
        trusted.Exit.ShouldBe(ExitCodes.Ok, trusted.Err);
        (await LedgerAsync(target, "trust", "list")).Out.ShouldContain("lab-a");
        var imported = await LedgerAsync(target, "import-events", eventsFile);
        imported.Exit.ShouldBe(ExitCodes.Ok, imported.Err);
        imported.Out.ShouldContain(head);

        var verified = await LedgerAsync(target, "verify", id.ToString(), "--expect", head, "--json");
        verified.Exit.ShouldBe(ExitCodes.Ok, verified.Out);
        verified.Json["intact"]!.GetValue<bool>().ShouldBeTrue();
        var client = target.CreateClient();
        await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromSeconds(60));
        var there = await StudyApi.GetAsync(client, $"/api/studies/{id}");
        var here = await StudyApi.GetAsync(source.CreateClient(), $"/api/studies/{id}");
        there["status"]!.GetValue<string>().ShouldBe("Completed");
        // The same trials, ended at the same sequences: those their study's fits and predictions name (of the ledger it came from).
        Trials(there).ShouldBe(Trials(here));
        Ids(there["latestFits"]!, "fitId").ShouldBe(Ids(here["latestFits"]!, "fitId"));
        there["fitCount"]!.GetValue<int>().ShouldBe(here["fitCount"]!.GetValue<int>(), "the reactors refitted what was imported");
        here["predictions"]!.AsArray().ShouldNotBeEmpty("the study made predictions: their audits are checked there");
        Ids(there["predictions"]!, "id").ShouldBe(Ids(here["predictions"]!, "id"));
        foreach (var prediction in there["predictions"]!.AsArray())
        {
            var audit = await StudyApi.GetAsync(client, $"/api/predictions/{prediction!["id"]}");
            audit["verified"]!.GetValue<bool>().ShouldBeTrue(audit["differences"]!.ToJsonString());
        }
        // The events as they were, then this ledger's record of the import (who, from which ledger), and nothing else.
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count.ShouldBe(export["events"]!.AsArray().Count + 1, "the import, its record, and nothing the reactors added");
        events[^1]!["type"]!.GetValue<string>().ShouldBe("StudyEventsImported");
        events[^1]!["data"]!["importedBy"]!.GetValue<string>().ShouldBe("local");
        events[^1]!["data"]!["originVerified"]!.GetValue<bool>().ShouldBeTrue("the ledger trusts the key that signed the export");
        verified.Json["says"]!.GetValue<string>().ShouldContain($"Events 1..{export["events"]!.AsArray().Count} were imported by local");
        verified.Json["says"]!.GetValue<string>().ShouldContain("('lab-a') (verified origin");
        (await LedgerAsync(target, "status", id.ToString())).Out.ShouldContain("('lab-a') (verified origin");

        // Once is enough: the same study again is refused, and so is an export whose chain was edited.
        var again = await LedgerAsync(target, "import-events", eventsFile);
        again.Exit.ShouldBe(ExitCodes.Refused);
        again.Err.ShouldContain("already in this ledger");
        var tampered = export.DeepClone();
        var firstEnd = tampered["events"]!.AsArray().First(e => e!["type"]!.GetValue<string>() == "trial_completed")!;
        firstEnd["data"]!["finalEvalLoss"] = 0.01;
        var tamperedFile = Path.Combine(dir, "tampered.events.json");
        await File.WriteAllTextAsync(tamperedFile, tampered.ToJsonString());
        await using var empty = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var refused = await LedgerAsync(empty, "import-events", tamperedFile);
        refused.Exit.ShouldBe(ExitCodes.Refused);
        refused.Err.ShouldContain("chain is broken at version");
        refused.Err.ShouldContain("it was edited");
        (await LedgerAsync(empty, "studies", "--json")).Json.AsArray().ShouldBeEmpty("a refused import stores nothing");
    }

    [Fact]
    public async Task names_are_text_in_the_markdown_report_and_the_tables()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        const string name = "<script>alert(1)</script> | [red]x[/]";
        var id = await StudyApi.ImportAsync(app.CreateClient(), Uri.EscapeDataString(name));
        var dir = Path.Combine(Path.GetTempPath(), $"cli-report-{Guid.NewGuid():N}");

        var report = await LedgerAsync(app, "report", id.ToString(), "--out", dir);
        report.Exit.ShouldBe(ExitCodes.Ok, report.Err);
        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "README.md"));
        markdown.ShouldNotContain("<script", Case.Insensitive);
        markdown.ShouldContain("# &lt;script&gt;alert(1)&lt;/script&gt; \\| \\[red\\]x\\[/\\]");
        // Spectre markup in a name prints as itself.
        (await LedgerAsync(app, "studies")).Out.ShouldContain(name);
        Directory.Delete(dir, true);

        // A name with a terminal's control sequence, stored around the ledger's rules (an older ledger took it): printed as
        // escapes, in the tables and the status alike, never as the sequence that would clear the screen.
        var cleared = Guid.NewGuid();
        await using (var session = app.Services.GetRequiredService<Marten.IDocumentStore>().LightweightSession())
        {
            session.Events.StartStream(cleared, new StudyImported(cleared, "\u001b[2J\u001b[Hclean", "o\u202Ewner",
                [new ImportedRun(Guid.NewGuid(), 0, 2, 64, null, null, 0.001, 0, 1.0)], ["width", "loss"], "local", DateTimeOffset.UtcNow));
            await session.SaveChangesAsync();
        }
        foreach (var run in new[] { await LedgerAsync(app, "studies"), await LedgerAsync(app, "status", cleared.ToString()) })
        {
            run.Out.ShouldNotContain("\u001b");
            run.Out.ShouldNotContain("\u202E");
            run.Out.ShouldContain("\\u001B[2J\\u001B[Hclean");
        }
    }

    [Fact]
    public async Task errors_are_one_line_with_an_exit_code_that_says_what_kind()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        async Task Expect(int exit, string says, params string[] args)
        {
            var run = await LedgerAsync(app, args);
            output.WriteLine($"ledger {string.Join(' ', args)} -> {run.Exit}: {run.Err.Trim()}");
            run.Exit.ShouldBe(exit, run.Err);
            run.Err.Trim().Split('\n').Length.ShouldBe(1, run.Err);
            run.Err.ShouldStartWith("ledger: ");
            run.Err.ShouldContain(says);
        }
        await Expect(ExitCodes.Usage, "Unknown command", "frobnicate");
        await Expect(ExitCodes.Usage, "Cannot read", "submit", "/nonexistent/spec.json");
        await Expect(ExitCodes.Usage, "--format is one of events, csv, parquet", "export", "x", "--format", "xlsx");
        await Expect(ExitCodes.NotFound, "No study is named 'nobody'", "status", "nobody");
        await Expect(ExitCodes.NotFound, "404", "verify", Guid.NewGuid().ToString());
        var bad = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(bad, """{"name": "", "steps": -1}""");
        await Expect(ExitCodes.Refused, "400", "submit", bad);
        await Expect(ExitCodes.Refused, "not a study export", "import-events", bad);
        var unreachable = await LedgerCli.RunAsync(["studies", "--url", "http://127.0.0.1:9"],
            new CliContext { Out = new StringWriter(), Err = new StringWriter(), Environment = _ => null });
        unreachable.ShouldBe(ExitCodes.Unreachable);
    }

    [Fact]
    public async Task the_real_program_talks_to_a_real_server_over_http_with_a_token()
    {
        var admin = new string('a', 40);
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"), ("Ledger:AccessControl", "true"), ("Ledger:AdminToken", admin));
        var url = app.StartOnKestrel();
        var dll = Path.Combine(AppContext.BaseDirectory, "ledger.dll");
        async Task<Run> Ledger(params string[] args)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment["LEDGER_URL"] = url;
            start.Environment.Remove("LEDGER_TOKEN");
            using var process = Process.Start(start)!;
            var (o, e) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
            await process.WaitForExitAsync();
            return new Run(process.ExitCode, await o, await e);
        }
        var anonymous = await Ledger("studies");
        anonymous.Exit.ShouldBe(ExitCodes.Denied);
        anonymous.Err.ShouldContain("--token or LEDGER_TOKEN");
        var made = await Ledger("--token", admin, "tokens", "create", "--user", "rita", "--role", "researcher", "--json");
        made.Exit.ShouldBe(ExitCodes.Ok, made.Err);
        var rita = made.Json["token"]!.GetValue<string>();
        (await Ledger("studies", "--token", rita)).Out.ShouldContain("holds no study");
        (await Ledger("tokens", "list", "--token", rita)).Exit.ShouldBe(ExitCodes.Denied, "a researcher may not list tokens");
        (await Ledger("tokens", "revoke", made.Json["id"]!.GetValue<string>(), "--token", admin)).Exit.ShouldBe(ExitCodes.Ok);

        // An export of a study of thousands of trials is tens of MiB, past the server's default body limit (30 MB): this one
        // (35 MiB) is read to its end and refused for what it holds, not cut off.
        var big = Path.Combine(Path.GetTempPath(), $"big-{Guid.NewGuid():N}.events.json");
        await File.WriteAllTextAsync(big, new JsonObject
        {
            ["format"] = "scalingledger-study-events/1", ["studyId"] = Guid.NewGuid(), ["exportedAt"] = DateTimeOffset.UtcNow,
            ["events"] = new JsonArray(new JsonObject
            {
                ["version"] = 1, ["sequence"] = 1, ["type"] = "padding", ["timestamp"] = DateTimeOffset.UtcNow, ["data"] = new string('x', 35 << 20),
            }),
        }.ToJsonString());
        var refused = await Ledger("import-events", big, "--token", admin);
        File.Delete(big);
        refused.Exit.ShouldBe(ExitCodes.Refused, refused.Err);
        refused.Err.ShouldContain("must be hash-chained");
        (await Ledger("studies", "--token", rita)).Exit.ShouldBe(ExitCodes.Denied, "a revoked token stops working");
    }

    private static string Trials(JsonNode study) => string.Join("; ", study["trials"]!.AsArray().OrderBy(t => t!["trialId"]!.GetValue<Guid>())
        .Select(t => $"{t!["trialId"]} {t["status"]} {t["attempt"]} {t["finalEvalLoss"]} {t["checkpoints"]!.AsArray().Count} ended at {t["endedSequence"]}"));

    private static List<string> Ids(JsonNode list, string field) => list.AsArray().Select(n => n![field]!.ToString()).Order().ToList();

    private static int DistinctColours(SKBitmap bitmap)
    {
        var colours = new HashSet<SKColor>();
        for (var y = 0; y < bitmap.Height; y += 3)
            for (var x = 0; x < bitmap.Width; x += 3)
                colours.Add(bitmap.GetPixel(x, y));
        return colours.Count;
    }

    private static void XDocumentLoads(string svg) => System.Xml.Linq.XDocument.Load(svg).Root!.Name.LocalName.ShouldBe("svg");
}
