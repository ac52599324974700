using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using ScalingLedger.Server.Store;
using ScalingLedger.Trainer.Training;

namespace ScalingLedger.Benchmarks;

/// <summary>
/// The study page in headless Chromium on ledgers filled by the simulated trainer (real recorded curves): the real Server
/// process (Release, as <c>./run.sh</c> runs it) over its own database. Figures: time until the page is interactive with
/// its four panels drawn and its law table shown, where that time went (the HTML, the scripts, the circuit, the charts), and
/// the time a replay step takes to redraw every panel. Printed, never asserted. <c>--server DLL</c> runs another build of the
/// Server (the code before a change, built in Release), so two runs alternated compare them on one machine.
/// </summary>
internal static class BrowserBenchmark
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly string[] Panels = ["panel-loss-width", "panel-loss-rate", "panel-heatmap", "panel-optimal-lr"];

    /// <summary><c>--shots DIR</c>: where to save the study page as first painted (no script) and as drawn by ApexCharts.</summary>
    private static string? shots;

    public static async Task<int> RunAsync(string[] args)
    {
        var at = Array.IndexOf(args, "--server");
        string? otherServer = null;
        if (at >= 0)
        {
            otherServer = Path.GetFullPath(args[at + 1]);
            args = [.. args[..at], .. args[(at + 2)..]];
        }
        at = Array.IndexOf(args, "--shots");
        if (at >= 0)
        {
            shots = Path.GetFullPath(args[at + 1]);
            args = [.. args[..at], .. args[(at + 2)..]];
        }
        var sizes = args.Length == 0 ? [432, 4320] : args[0].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToList();
        var recordingPath = Path.Combine(AppContext.BaseDirectory, "recordings", "tiny-432.json");
        var recording = TrialRecording.Load(recordingPath);
        var server = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "src", "Server", "bin", "Release", "net10.0",
            "ScalingLedger.Server.dll"));
        server = otherServer ?? server;
        if (!File.Exists(server)) throw new FileNotFoundException("Build the Server in Release first (dotnet build -c Release src/Server).", server);
        Console.WriteLine($"Recording: {recording.Source}; Server: {server}; Chromium: {Chromium}; {Environment.ProcessorCount} cores.");

        var dir = Path.Combine(Path.GetTempPath(), $"browser-bench-{Environment.ProcessId}");
        await using var pg = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "pg"), "postgres", _ => { });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"],
        });
        try
        {
            foreach (var trials in sizes)
            {
                var database = $"browser_{trials}_{Guid.NewGuid():N}"[..24];
                await pg.CreateDatabaseAsync(database);
                var port = 5200 + trials % 700;
                Guid id;
                using (var process = StartServer(server, pg.ConnectionString(database), recordingPath, port))
                {
                    try
                    {
                        id = await MeasureAsync(browser, $"http://127.0.0.1:{port}", LedgerBenchmark.Spec(recording, trials));
                    }
                    finally
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync();
                    }
                }
                // The first page after a start, the Server warming itself before it says ready or not, alternated.
                foreach (var warmup in new[] { false, true, false, true })
                {
                    using var process = StartServer(server, pg.ConnectionString(database), recordingPath, port, warmup);
                    try
                    {
                        await FirstLoadAfterStartAsync(browser, $"http://127.0.0.1:{port}", id, warmup);
                    }
                    finally
                    {
                        process.Kill(entireProcessTree: true);
                        await process.WaitForExitAsync();
                    }
                }
            }
        }
        finally
        {
            await pg.StopAsync();
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return 0;
    }

    /// <summary>The benchmarks' ledgers' signing key (a team's configuration gives one; these ledgers live for one run).</summary>
    public static readonly string SigningKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256)
        .ExportPkcs8PrivateKeyPem();

    private static Process StartServer(string dll, string connection, string recording, int port, bool warmup = true)
    {
        var info = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)!
        };
        info.Environment["ConnectionStrings__Ledger"] = connection;
        info.Environment["Ledger__SigningKey"] = SigningKey;
        info.Environment["Trainer__Replay"] = recording;
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Ledger__Warmup"] = warmup ? "true" : "false";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// From the process's start: how long until it says ready (<c>/health</c> 200), and the first study page's load after that
    /// in a fresh browser context (nothing cached), as a researcher opening the study right after a restart or failover.
    /// </summary>
    private static async Task FirstLoadAfterStartAsync(IBrowser browser, string baseUrl, Guid id, bool warmup)
    {
        var clock = Stopwatch.StartNew();
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        for (var i = 0; ; i++)
        {
            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode) break;
            }
            catch (HttpRequestException) when (i < 1200) { }
            await Task.Delay(100);
        }
        var ready = clock.Elapsed;
        var first = await FreshLoadAsync(browser, $"{baseUrl}/studies/{id}");
        // The same in another fresh context: what is left of the first load's cost on the browser's side (nothing cached).
        var second = await FreshLoadAsync(browser, $"{baseUrl}/studies/{id}");
        Console.WriteLine($"   after a start {(warmup ? "with" : "without")} warm-up: ready (/health 200) {ready.TotalSeconds:F1} s after the process " +
            $"started; the first study page: its four panels and law table shown {first.Shown:F0} ms, interactive with ApexCharts' panels " +
            $"{first.Interactive:F0} ms; the next in a browser new to the site: shown {second.Shown:F0} ms, interactive {second.Interactive:F0} ms");
    }

    private static async Task<Load> FreshLoadAsync(IBrowser browser, string url)
    {
        await using var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1500, Height = 1400 } });
        var page = await context.NewPageAsync();
        await page.AddInitScriptAsync(Marks);
        return await LoadAsync(page, url);
    }

    /// <summary>
    /// Loads the study page until it is interactive with its four panels drawn and its law table shown; prints where the time
    /// went, on the page's clock from the navigation's start (the page carries <see cref="Marks"/>).
    /// </summary>
    private static async Task<Load> LoadAsync(IPage page, string url, bool quiet = false)
    {
        var load = Stopwatch.StartNew();
        await page.GotoAsync(url);
        var loaded = load.Elapsed.TotalMilliseconds;
        await page.Locator("#interactive").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 120_000 });
        var interactive = load.Elapsed.TotalMilliseconds;
        foreach (var panel in Panels) await page.Locator($"#{panel}[data-draws]").WaitForAsync(new() { Timeout = 120_000 });
        await page.Locator("#fits").WaitForAsync(new() { Timeout = 120_000 });
        var total = load.Elapsed.TotalMilliseconds;
        if (!quiet) Console.WriteLine($"      by the benchmark's clock: navigated (load event) {loaded:F0} ms, " +
            $"interactive seen {interactive:F0} ms, panels seen {total:F0} ms");
        await page.WaitForFunctionAsync("() => window.__shownAt !== undefined", null, new() { Timeout = 10_000 });
        // On the page's clock from the navigation's start; the click is a few milliseconds before it (Playwright's own).
        var shown = await page.EvaluateAsync<double>("() => window.__shownAt");
        if (!quiet) Console.WriteLine("      " + await BreakdownAsync(page, Panels));
        return new Load(shown, total);
    }

    /// <summary>
    /// One load of the study page: when its four panels and law table were first on screen, and when it was interactive with
    /// ApexCharts' panels drawn (ms from the click).
    /// </summary>
    private readonly record struct Load(double Shown, double Interactive);

    /// <summary>
    /// Notes, on the page's clock, when the page first showed its four panels and its law table (drawn by ApexCharts, or the
    /// Server's first paint of each in the HTML: the frame after they are all in the page), and when the circuit made it
    /// interactive.
    /// </summary>
    private const string Marks = """
        (() => {
          const panels = ['panel-loss-width', 'panel-loss-rate', 'panel-heatmap', 'panel-optimal-lr'];
          const shown = id => { const e = document.getElementById(id);
            return !!e && (e.dataset.draws !== undefined || !!e.parentElement?.querySelector(':scope > .first-paint svg')); };
          const look = o => {
            if (!window.__interactiveAt && document.getElementById('interactive')) window.__interactiveAt = performance.now();
            if (!window.__inPageAt && document.getElementById('fits') && panels.every(shown)) {
              window.__inPageAt = performance.now();
              requestAnimationFrame(() => { window.__shownAt = performance.now(); });
            }
            if (window.__interactiveAt && window.__inPageAt) o.disconnect();
          };
          const observer = new MutationObserver((_, o) => look(o));
          observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-draws'] });
        })();
        """;

    private static async Task<string> BreakdownAsync(IPage page, string[] panels)
    {
        var t = await page.EvaluateAsync<System.Text.Json.JsonElement>("""
            ids => {
              const nav = performance.getEntriesByType('navigation')[0];
              const res = name => performance.getEntriesByType('resource').find(e => e.name.includes(name));
              const end = name => res(name)?.responseEnd ?? null;
              const bytes = name => res(name)?.transferSize ?? null;
              const drawn = ids.map(id => Number(document.getElementById(id)?.dataset.drawnAt || 0));
              return { html: nav.responseEnd, htmlBytes: nav.transferSize, domReady: nav.domContentLoadedEventEnd, loadEvent: nav.loadEventEnd,
                apex: end('apexcharts'), apexBytes: bytes('apexcharts'), blazor: end('blazor.web.js'), blazorBytes: bytes('blazor.web.js'),
                shown: window.__shownAt ?? null, interactive: window.__interactiveAt ?? null, firstChart: Math.min(...drawn), lastChart: Math.max(...drawn) };
            }
            """, panels);
        string Ms(string key) => t.GetProperty(key) is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? $"{v.GetDouble():F0}" : "-";
        string Kb(string key) => t.GetProperty(key) is { ValueKind: System.Text.Json.JsonValueKind.Number } v ? $"{v.GetDouble() / 1024:F0} KB" : "-";
        return $"where it went (ms from the click): HTML {Ms("html")} ({Kb("htmlBytes")}), scripts apexcharts {Ms("apex")} ({Kb("apexBytes")}) " +
               $"blazor {Ms("blazor")} ({Kb("blazorBytes")}), DOM ready {Ms("domReady")}, " +
               $"load event {Ms("loadEvent")}, panels and law table shown {Ms("shown")}, interactive {Ms("interactive")}, " +
               $"first ApexCharts panel drawn {Ms("firstChart")}, last {Ms("lastChart")}";
    }

    private static async Task<Guid> MeasureAsync(IBrowser browser, string baseUrl, JsonObject spec)
    {
        using var client = new HttpClient { BaseAddress = new Uri(baseUrl) };
        for (var i = 0; ; i++)
        {
            try { (await client.GetAsync("/api/studies")).EnsureSuccessStatusCode(); break; }
            catch (HttpRequestException) when (i < 240) { await Task.Delay(500); }
        }
        var clock = Stopwatch.StartNew();
        var response = await client.PostAsJsonAsync("/api/studies", spec);
        response.EnsureSuccessStatusCode();
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        JsonObject study;
        while (true)
        {
            await Task.Delay(1000);
            study = (await client.GetFromJsonAsync<JsonObject>($"/api/studies/{id}"))!;
            if ((string?)study["status"] != "Running") break;
        }
        var trials = study["trials"]!.AsArray().Count;
        var events = study["lastSequence"]!.GetValue<long>();
        Console.WriteLine();
        Console.WriteLine($"== {trials:N0} trials, {spec["steps"]} checkpoints a trial: " +
            $"filled by the simulated trainer in {clock.Elapsed.TotalSeconds:F0} s (ledger sequence {events:N0})");

        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1500, Height = 1400 } });
        await page.AddInitScriptAsync(Marks);
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);
        // Interactive: the page is served, Blazor's circuit is up (it answers clicks) and all four panels are drawn. The replay
        // (the study's events, read once the page is shown) is ready later: timed apart.
        var loads = new List<Load>();
        var replays = new List<double>();
        for (var i = 0; i < 6; i++)
        {
            var load = Stopwatch.StartNew();
            loads.Add(await LoadAsync(page, $"{baseUrl}/studies/{id}", quiet: i is not (0 or 5)));
            await page.Locator("#replay-forward").WaitForAsync(new() { Timeout = 120_000 });
            replays.Add(load.Elapsed.TotalMilliseconds);
        }
        var shownMs = loads.Select(l => l.Shown).ToList();
        var interactiveMs = loads.Select(l => l.Interactive).ToList();
        Console.WriteLine($"   study page in a browser that has visited it (scripts cached): its four panels and law table shown: first {shownMs[0]:F0} ms, " +
            $"then median {Median(shownMs.Skip(1)):F0} ms, worst {shownMs.Skip(1).Max():F0} ms; interactive with ApexCharts' panels drawn: " +
            $"first {interactiveMs[0]:F0} ms, then median {Median(interactiveMs.Skip(1)):F0} ms, worst {interactiveMs.Skip(1).Max():F0} ms; " +
            $"its replay ready: median {Median(replays.Skip(1)):F0} ms");
        if (shots is not null)
        {
            Directory.CreateDirectory(shots);
            await page.ScreenshotAsync(new() { Path = Path.Combine(shots, $"study-{trials}-interactive.png") });
            await using var noScript = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1500, Height = 1400 }, JavaScriptEnabled = false });
            var still = await noScript.NewPageAsync();
            await still.GotoAsync($"{baseUrl}/studies/{id}");
            await still.ScreenshotAsync(new() { Path = Path.Combine(shots, $"study-{trials}-first-paint.png") });
            Console.WriteLine($"   screenshots in {shots}");
        }

        // A replay step: one click on "next moment" until every panel has drawn again.
        await page.Locator("#replay-start").ClickAsync();
        await page.Locator("#replaying").WaitForAsync();
        await Task.Delay(1000);
        var steps = new List<double>();
        var shown = new List<double>();
        var redrawn = new List<int>();
        var drawTimes = new Dictionary<string, List<double>>();
        // When the page's text says the new point (the server has folded and rendered it), before the charts draw.
        await page.EvaluateAsync(@"() => { const at = document.getElementById('replay-at');
            new MutationObserver(() => { window.__shownAt = performance.now(); }).observe(at, { childList: true, characterData: true, subtree: true }); }");
        // A Server that draws a moving replay's panels itself (LedgerChart's Still): the panels whose SVG picture changed since
        // the click, and the frame after the last of them.
        await page.EvaluateAsync(@"() => { window.__still = new Set();
            new MutationObserver(records => {
              for (const r of records) for (const n of r.addedNodes) {
                const box = n.nodeType === 1 && n.classList.contains('first-paint') ? n.parentElement : null;
                if (!box) continue;
                window.__still.add(box.querySelector('.ledger-chart')?.id);
                requestAnimationFrame(() => { window.__stillAt = performance.now(); });
              }
            }).observe(document.body, { childList: true, subtree: true }); }");
        for (var i = 0; i < 15; i++)
        {
            var before = await page.Locator("#replay-at").InnerTextAsync();
            var drawsBefore = await DrawsAsync(page);
            var clickedAt = await page.EvaluateAsync<double>("() => performance.now()");
            await page.Locator("#replay-forward").ClickAsync();
            await page.Locator("#replay-at").Filter(new() { HasNotText = before }).WaitForAsync(new() { Timeout = 30_000 });
            // A panel whose picture does not change at this moment is not drawn again: wait until no panel draws for 500 ms.
            var quiet = await DrawsAsync(page);
            while (true)
            {
                await Task.Delay(500);
                var now = await DrawsAsync(page);
                if (now.SequenceEqual(quiet)) break;
                quiet = now;
            }
            var still = await page.EvaluateAsync<string[]>("() => { const ids = [...window.__still]; window.__still.clear(); return ids; }");
            if (still.Any(Panels.Contains))
            {
                // The step's pictures were the Server's: ApexCharts' redraw once the replay rested is not part of the step.
                steps.Add(await page.EvaluateAsync<double>("() => window.__stillAt") - clickedAt);
                shown.Add(await page.EvaluateAsync<double>("() => window.__shownAt") - clickedAt);
                redrawn.Add(still.Count(Panels.Contains));
                continue;
            }
            var changed = Panels.Where((_, k) => quiet[k] > drawsBefore[k]).ToArray();
            if (changed.Length == 0) continue;
            var last = await page.EvaluateAsync<double>("ids => Math.max(...ids.map(id => Number(document.getElementById(id).dataset.drawnAt || 0)))", changed);
            steps.Add(last - clickedAt);
            shown.Add(await page.EvaluateAsync<double>("() => window.__shownAt") - clickedAt);
            redrawn.Add(changed.Length);
            foreach (var (panel, ms) in changed.Zip(await page.EvaluateAsync<double[]>(
                "ids => ids.map(id => Number(document.getElementById(id).dataset.drawMs || 0))", changed)))
                (drawTimes.TryGetValue(panel, out var list) ? list : drawTimes[panel] = []).Add(ms);
        }
        Console.WriteLine($"   replay step (click -> the last changed panel shown again), {steps.Count} steps from the start " +
            $"redrawing {redrawn.Average():F1} panels on average: " +
            $"median {Median(steps):F0} ms, best {steps.Min():F0} ms, worst {steps.Max():F0} ms; " +
            $"of which click -> the page's text updated (server fold and render): median {Median(shown):F0} ms");
        if (drawTimes.Count > 0) Console.WriteLine($"   of which ApexCharts' own redraw per panel (median): " +
            $"{string.Join(", ", drawTimes.Select(d => $"{d.Key} {Median(d.Value):F0} ms"))}");
        if (errors.Count > 0) Console.WriteLine($"   browser errors: {string.Join(" | ", errors)}");
        await page.CloseAsync();
        return id;
    }

    private static async Task<int[]> DrawsAsync(IPage page) =>
        await page.EvaluateAsync<int[]>("ids => ids.map(id => Number(document.getElementById(id)?.dataset.draws || 0))", Panels);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[sorted.Count / 2];
    }
}
