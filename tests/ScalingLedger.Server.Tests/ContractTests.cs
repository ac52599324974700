using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ScalingLedger.Cli;
using Xunit.Abstractions;

namespace ScalingLedger.Server.Tests;

/// <summary>
/// The API document as a contract, checked by a third party: Prism (pinned in tools/openapi, installed by ./test.sh) stands
/// as a validating proxy in front of the real Server on Kestrel, and the <c>ledger</c> command line and plain HTTP calls
/// exercise every operation of the document through it, with access control on. Prism checks each request and each answer
/// against the document; an answer it does not describe (a status, a header, a field, a type) comes back as Prism's own
/// error, and the test fails naming it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ContractTests(PostgresFixture pg, ITestOutputHelper output)
{
    private const string Admin = "contract-admin-secret-0123456789";

    [Fact]
    public async Task every_operation_answers_only_what_the_document_describes_through_a_validating_proxy()
    {
        // Bounded: a stalled trainer or proxy fails the test instead of hanging it.
        using var bounded = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var work = Directory.CreateTempSubdirectory("contract-").FullName;
        try
        {
            await ExerciseEveryOperationAsync(work, bounded.Token);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task ExerciseEveryOperationAsync(string work, CancellationToken cancel)
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:AccessControl", "true"), ("Ledger:AdminToken", Admin));
        var upstream = app.StartOnKestrel().TrimEnd('/');
        using var direct = new HttpClient();
        direct.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);
        var document = await direct.GetStringAsync($"{upstream}/openapi/v1.json", cancel);
        await using var prism = await Prism.StartAsync(document, work, upstream, output);
        var seen = new ConcurrentQueue<Call>();
        using var http = new HttpClient(new Recording(seen, new SocketsHttpHandler())) { BaseAddress = new Uri(prism.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Admin);

        async Task<Cli> Ledger(params string[] args)
        {
            var (stdout, stderr) = (new StringWriter(), new StringWriter());
            var context = new CliContext
            {
                Out = stdout, Err = stderr, Interactive = false, Handler = new Recording(seen, new SocketsHttpHandler()),
                PollEvery = TimeSpan.FromMilliseconds(300), Environment = _ => null, OpenStandardOutput = () => new MemoryStream(),
            };
            var exit = await LedgerCli.RunAsync([.. args, "--url", prism.Url, "--token", Admin], context, cancel);
            output.WriteLine($"ledger {string.Join(' ', args)}: exit {exit}\n{stderr}\n{stdout}".Trim());
            return new Cli(exit, stdout.ToString(), stderr.ToString());
        }

        async Task<JsonNode?> Call(HttpMethod method, string path, HttpContent? body, params HttpStatusCode[] expected)
        {
            using var response = await http.SendAsync(new HttpRequestMessage(method, path) { Content = body }, cancel);
            var text = await response.Content.ReadAsStringAsync(cancel);
            output.WriteLine($"{method} {path}: {(int)response.StatusCode}");
            response.StatusCode.ShouldBeOneOf(expected, $"{method} {path}: {text}");
            return text.Length > 0 && response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true
                ? JsonNode.Parse(text) : null;
        }

        // A study trained for real, followed to its end by the command line: define, wait, status, list, report, verify.
        var spec = Path.Combine(work, "spec.json");
        // Rates that bracket each width's best, and two seeds: the optimal-LR law fits, and the study can be extended.
        var tiny = StudyApi.TinySpec("contract", widths: [2, 3, 4, 5], rates: [0.0003, 0.003, 0.03, 0.3], steps: 20);
        tiny["seeds"] = new JsonArray(0, 1);
        await File.WriteAllTextAsync(spec, tiny.ToJsonString(), cancel);
        var submitted = await Ledger("submit", spec, "--wait");
        submitted.Exit.ShouldBe(ExitCodes.Ok, submitted.Err);
        (await Ledger("studies")).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("status", "contract")).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("status", "contract", "--json")).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("verify", "contract")).Exit.ShouldBe(ExitCodes.Ok);
        var reportDir = Path.Combine(work, "report");
        (await Ledger("report", "contract", "--out", reportDir)).Exit.ShouldBe(ExitCodes.Ok);
        var study = (await Call(HttpMethod.Get, "/api/studies?limit=5", null, HttpStatusCode.OK))!.AsArray().Single()!;
        var id = study["id"]!.GetValue<Guid>();

        // Its events, fits, predictions and comparisons, read over plain HTTP.
        await Call(HttpMethod.Get, $"/api/studies/{id}?checkpoints=last", null, HttpStatusCode.OK);
        await Call(HttpMethod.Get, $"/api/studies/{id}/events?after=0&limit=50", null, HttpStatusCode.OK);
        var fits = (await Call(HttpMethod.Get, $"/api/studies/{id}/fits", null, HttpStatusCode.OK))!.AsArray();
        fits.Count.ShouldBeGreaterThan(0);
        var view = (await Call(HttpMethod.Get, $"/api/studies/{id}", null, HttpStatusCode.OK))!;
        var prediction = view["predictions"]!.AsArray().First()!["id"]!.GetValue<Guid>();
        await Call(HttpMethod.Get, $"/api/predictions/{prediction}", null, HttpStatusCode.OK);
        await Call(HttpMethod.Get, $"/api/compare?ids={id}", null, HttpStatusCode.BadRequest);
        await Call(HttpMethod.Get, "/health", null, HttpStatusCode.OK);
        await Call(HttpMethod.Get, "/api/me", null, HttpStatusCode.OK);

        // Writes: a grant, a coordinate check, an extension, a cancellation of a second study.
        await Call(HttpMethod.Post, $"/api/studies/{id}/grants", JsonContent.Create(new { user = "rita", permission = "manage" }), HttpStatusCode.OK);
        await Call(HttpMethod.Post, $"/api/studies/{id}/coordinate-checks", JsonContent.Create(new { widths = new[] { 2, 4 }, steps = 2 }),
            HttpStatusCode.Accepted);
        await Call(HttpMethod.Post, $"/api/studies/{id}/coordinate-checks", null, HttpStatusCode.Accepted); // its settings have defaults
        await Call(HttpMethod.Get, $"/api/studies/{id}/coordinate-checks", null, HttpStatusCode.OK);
        var extended = await Ledger("extend", "contract", "--widths", "8", "--reason", "one doubling on");
        extended.Exit.ShouldBe(ExitCodes.Ok, extended.Err);
        var second = StudyApi.TinySpec("contract-cancelled", widths: [2, 3], rates: [0.01], steps: 2_000);
        await File.WriteAllTextAsync(spec, second.ToJsonString(), cancel);
        (await Ledger("submit", spec)).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("cancel", "contract-cancelled", "--reason", "enough")).Exit.ShouldBe(ExitCodes.Ok);

        // Moving studies: runs from elsewhere as CSV, and a study exported by another ledger, with the exports this one makes.
        var csv = Path.Combine(work, "runs.csv");
        await File.WriteAllTextAsync(csv, "width,learningRate,loss\n64,0.001,1.0\n128,0.001,0.9\n256,0.001,0.85\n512,0.001,0.82\n", cancel);
        (await Ledger("import", csv, "--name", "contract-runs")).Exit.ShouldBe(ExitCodes.Ok);
        var runs = (await Call(HttpMethod.Get, "/api/studies", null, HttpStatusCode.OK))!.AsArray().Single(s => s!["name"]!.ToString() == "contract-runs")!;
        await Call(HttpMethod.Get, $"/api/compare?ids={id},{runs["id"]}", null, HttpStatusCode.OK);
        await Call(HttpMethod.Post, $"/api/studies/{runs["id"]}/coordinate-checks", JsonContent.Create(new { }), HttpStatusCode.Conflict);
        var events = Path.Combine(work, "events.json");
        (await Ledger("export", "contract", "--format", "events", "--out", events)).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("export", "contract", "--format", "csv")).Exit.ShouldBe(ExitCodes.Ok);
        await using (var elsewhere = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false")))
        {
            var client = elsewhere.CreateClient();
            var moved = await StudyApi.ImportAsync(client, "moved");
            await StudyApi.WaitForReactorsAsync(client, TimeSpan.FromMinutes(1));
            await File.WriteAllBytesAsync(events, await client.GetByteArrayAsync($"/api/studies/{moved}/export", cancel), cancel);
            var identity = await Ledger("identity", "--json");
            identity.Exit.ShouldBe(ExitCodes.Ok);
            var key = JsonNode.Parse(await client.GetStringAsync("/api/ledger", cancel))!["publicKey"]!.GetValue<string>();
            (await Ledger("trust", "add", "elsewhere", key)).Exit.ShouldBe(ExitCodes.Ok);
            (await Ledger("trust", "list")).Exit.ShouldBe(ExitCodes.Ok);
            (await Ledger("import-events", events)).Exit.ShouldBe(ExitCodes.Ok);
            (await Ledger("import-events", events)).Exit.ShouldBe(ExitCodes.Refused, "the same study twice is a conflict");
            var fingerprint = JsonNode.Parse((await Ledger("trust", "list", "--json")).Out)!.AsArray().Single()!["fingerprint"]!.GetValue<string>();
            (await Ledger("trust", "remove", fingerprint)).Exit.ShouldBe(ExitCodes.Ok);
        }

        // Tokens: made, listed and revoked; and answers that refuse.
        var made = await Ledger("tokens", "create", "--user", "rita", "--role", "researcher", "--json");
        made.Exit.ShouldBe(ExitCodes.Ok, made.Err);
        (await Ledger("tokens", "list")).Exit.ShouldBe(ExitCodes.Ok);
        (await Ledger("tokens", "revoke", JsonNode.Parse(made.Out)!["id"]!.GetValue<string>())).Exit.ShouldBe(ExitCodes.Ok);
        await Call(HttpMethod.Get, $"/api/studies/{Guid.NewGuid()}", null, HttpStatusCode.NotFound);
        await Call(HttpMethod.Delete, "/api/tokens/no-such-token", null, HttpStatusCode.NotFound);
        await Call(HttpMethod.Post, $"/api/studies/{id}/extend", JsonContent.Create(new { widths = new[] { 3 } }), HttpStatusCode.BadRequest,
            HttpStatusCode.Conflict);
        await Call(HttpMethod.Post, "/api/tokens", JsonContent.Create(new { subject = "rita", role = "wizard" }), HttpStatusCode.BadRequest);

        // Nothing Prism refused, and every operation of the document answered at least once.
        var documented = Operations(JsonNode.Parse(document)!);
        var violations = seen.Where(s => s.Violation is not null).Select(s => $"{s.Method} {s.Path} -> {s.Status}: {s.Violation}").ToList();
        violations.ShouldBeEmpty("answers (or requests) outside the API document, as Prism found them");
        var exercised = seen.Select(s => documented.FirstOrDefault(o => o.Method == s.Method && o.Path.IsMatch(s.Path))?.Id).ToHashSet();
        documented.Select(o => o.Id).Where(o => !exercised.Contains(o)).ShouldBeEmpty("operations no call exercised");
        output.WriteLine($"{seen.Count} calls through Prism, {documented.Count} operations, statuses: " +
            string.Join(", ", seen.GroupBy(s => s.Status).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}")));
        prism.Log.ShouldNotContain("VIOLATIONS");
    }

    private sealed record Cli(int Exit, string Out, string Err);

    private sealed record Operation(string Id, string Method, Regex Path);

    private static List<Operation> Operations(JsonNode document) =>
    [
        .. document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject().Select(op => new Operation(
            op.Value!["operationId"]!.GetValue<string>(), op.Key.ToUpperInvariant(),
            new Regex("^" + Regex.Replace(path.Key, @"\{[^}]+\}", "[^/]+") + "$")))),
    ];

    private sealed record Call(string Method, string Path, int Status, string? Violation);

    /// <summary>Notes every call and whether Prism answered it itself: its problem types, or its <c>sl-violations</c> header.</summary>
    private sealed class Recording(ConcurrentQueue<Call> seen, HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancel)
        {
            var response = await base.SendAsync(request, cancel);
            string? violation = null;
            if (response.Headers.TryGetValues("sl-violations", out var said)) violation = string.Join(" ", said);
            if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
            {
                await response.Content.LoadIntoBufferAsync(cancel);
                var text = await response.Content.ReadAsStringAsync(cancel);
                if (text.Contains("stoplight.io/prism/errors", StringComparison.Ordinal)) violation = (violation + " " + text).Trim();
            }
            seen.Enqueue(new Call(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, violation));
            return response;
        }
    }

    /// <summary>Prism's validating proxy (<c>prism proxy DOCUMENT UPSTREAM --errors</c>) on a free loopback port.</summary>
    private sealed class Prism : IAsyncDisposable
    {
        private readonly Process process;
        private readonly StringBuilder log = new();

        public string Url { get; }
        public string Log { get { lock (log) return log.ToString(); } }

        private Prism(Process process, string url) => (this.process, Url) = (process, url);

        public static async Task<Prism> StartAsync(string document, string work, string upstream, ITestOutputHelper output)
        {
            var tool = Path.Combine(SiteBrowserTests.RepositoryRoot(), "tools", "openapi");
            var prism = Path.Combine(tool, "node_modules", ".bin", "prism");
            File.Exists(prism).ShouldBeTrue("Prism is not installed: run 'npm ci --prefix tools/openapi' (./test.sh does)");
            var file = Path.Combine(work, "openapi.json");
            await File.WriteAllTextAsync(file, document);
            var port = FreePort();
            var psi = new ProcessStartInfo(prism) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = tool };
            foreach (var a in new[] { "proxy", file, upstream, "--errors", "--host", "127.0.0.1", "--port", port.ToString() }) psi.ArgumentList.Add(a);
            var process = Process.Start(psi)!;
            var started = new Prism(process, $"http://127.0.0.1:{port}");
            var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void Read(string? line)
            {
                if (line is null) return;
                lock (started.log) started.log.AppendLine(line);
                if (line.Contains("Prism is listening", StringComparison.Ordinal)) listening.TrySetResult();
            }
            process.OutputDataReceived += (_, e) => Read(e.Data);
            process.ErrorDataReceived += (_, e) => Read(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(listening.Task, exited, Task.Delay(TimeSpan.FromMinutes(2))) != listening.Task)
            {
                output.WriteLine(started.Log);
                await started.DisposeAsync();
                throw new ShouldAssertException($"Prism did not start within two minutes:\n{started.Log}");
            }
            return started;
        }

        private static int FreePort()
        {
            using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            process.Dispose();
        }
    }
}
