using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Cli;

/// <summary>
/// Names the operation of the Server's OpenAPI document a client method calls: a test checks every one against the
/// document the Server serves (the id, the method and the path), so the client cannot drift from the API.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OperationAttribute(string id, string method, string path) : Attribute
{
    public string Id { get; } = id;
    public string Method { get; } = method;
    public string Path { get; } = path;
}

/// <summary>A fit as <c>/api/studies/{id}/fits</c> lists it.</summary>
public sealed record RecordedFit(long Sequence, LawFitted Fit);

/// <summary>
/// The HTTP API as the command line uses it, one method per operation (<see cref="OperationAttribute"/>). A refusal becomes
/// a <see cref="LedgerCliException"/> whose message is the ledger's own reason, in one line.
/// </summary>
public sealed class LedgerClient(HttpClient http) : IDisposable
{
    private static JsonSerializerOptions Json => LedgerJson.Api;

    public Uri BaseAddress => http.BaseAddress!;

    [Operation("defineStudy", "POST", "/api/studies")]
    public Task<JsonObject> DefineStudyAsync(JsonNode spec, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, "/api/studies", JsonContent.Create(spec, options: Json), cancel);

    [Operation("importStudy", "POST", "/api/studies/import")]
    public Task<JsonObject> ImportStudyAsync(Stream csv, string name, string? owner, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, $"/api/studies/import?name={Uri.EscapeDataString(name)}" +
            (owner is null ? "" : $"&owner={Uri.EscapeDataString(owner)}"), Content(csv, "text/csv"), cancel);

    /// <summary>Every study, newest first: the list's pages, one after another.</summary>
    [Operation("listStudies", "GET", "/api/studies")]
    public async Task<List<StudySummary>> ListStudiesAsync(CancellationToken cancel)
    {
        var all = new List<StudySummary>();
        while (true)
        {
            var page = await SendAsync<List<StudySummary>>(HttpMethod.Get, $"/api/studies?offset={all.Count}&limit={StudyPages.Max}", null, cancel);
            all.AddRange(page);
            if (page.Count < StudyPages.Max) return all;
        }
    }

    /// <summary>A study now (or as of a global event sequence); <paramref name="checkpoints"/> is all, last or none.</summary>
    [Operation("getStudy", "GET", "/api/studies/{id}")]
    public Task<StudyView> GetStudyAsync(Guid id, long? asOf, string checkpoints, CancellationToken cancel) =>
        SendAsync<StudyView>(HttpMethod.Get, $"/api/studies/{id}?checkpoints={checkpoints}" + (asOf is { } s ? $"&asOf={s}" : ""), null, cancel);

    /// <summary>Every fit ever made for the study, oldest first, with the global sequence it was recorded at.</summary>
    [Operation("listStudyFits", "GET", "/api/studies/{id}/fits")]
    public Task<List<RecordedFit>> ListStudyFitsAsync(Guid id, CancellationToken cancel) =>
        SendAsync<List<RecordedFit>>(HttpMethod.Get, $"/api/studies/{id}/fits", null, cancel);

    [Operation("verifyStudy", "GET", "/api/studies/{id}/verify")]
    public Task<JsonObject> VerifyStudyAsync(Guid id, string? expect, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Get, $"/api/studies/{id}/verify" + (expect is null ? "" : $"?expect={Uri.EscapeDataString(expect)}"), null, cancel);

    /// <summary>Adds widths to a study, at rates where its laws point; the answer lists each width's rates and why.</summary>
    [Operation("extendStudy", "POST", "/api/studies/{id}/extend")]
    public Task<JsonObject> ExtendStudyAsync(Guid id, ExtensionRequest request, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, $"/api/studies/{id}/extend", JsonContent.Create(request, options: Json), cancel);

    [Operation("cancelStudy", "POST", "/api/studies/{id}/cancel")]
    public Task<JsonObject> CancelStudyAsync(Guid id, string? reason, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, $"/api/studies/{id}/cancel", JsonContent.Create(new { reason }, options: Json), cancel);

    /// <summary>The study's events as stored (<see cref="StudyExport"/>), copied to <paramref name="to"/> as they stream in.</summary>
    [Operation("exportStudy", "GET", "/api/studies/{id}/export")]
    public async Task ExportStudyAsync(Guid id, Stream to, CancellationToken cancel)
    {
        using var response = await SendRawAsync(HttpMethod.Get, $"/api/studies/{id}/export", null, cancel, HttpCompletionOption.ResponseHeadersRead);
        try
        {
            await response.Content.CopyToAsync(to, cancel);
        }
        catch (HttpRequestException ex)
        {
            throw new LedgerCliException(ExitCodes.ServerError, $"The ledger stopped sending study {id} midway ({ex.InnerException?.Message ?? ex.Message}).");
        }
    }

    [Operation("importStudyEvents", "POST", "/api/studies/import-events")]
    public Task<JsonObject> ImportStudyEventsAsync(Stream export, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, "/api/studies/import-events", Content(export, "application/json"), cancel);

    [Operation("getPredictionAudit", "GET", "/api/predictions/{id}")]
    public Task<JsonObject> GetPredictionAuditAsync(Guid id, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Get, $"/api/predictions/{id}", null, cancel);

    [Operation("createToken", "POST", "/api/tokens")]
    public Task<JsonObject> CreateTokenAsync(string subject, string role, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, "/api/tokens", JsonContent.Create(new { subject, role }, options: Json), cancel);

    [Operation("listTokens", "GET", "/api/tokens")]
    public Task<JsonArray> ListTokensAsync(CancellationToken cancel) => SendAsync<JsonArray>(HttpMethod.Get, "/api/tokens", null, cancel);

    [Operation("revokeToken", "DELETE", "/api/tokens/{id}")]
    public async Task RevokeTokenAsync(string id, CancellationToken cancel) =>
        (await SendRawAsync(HttpMethod.Delete, $"/api/tokens/{Uri.EscapeDataString(id)}", null, cancel)).Dispose();

    [Operation("getLedgerIdentity", "GET", "/api/ledger")]
    public Task<JsonObject> GetLedgerIdentityAsync(CancellationToken cancel) => SendAsync<JsonObject>(HttpMethod.Get, "/api/ledger", null, cancel);

    [Operation("trustLedger", "POST", "/api/trusted-ledgers")]
    public Task<JsonObject> TrustLedgerAsync(string name, string publicKey, CancellationToken cancel) =>
        SendAsync<JsonObject>(HttpMethod.Post, "/api/trusted-ledgers", JsonContent.Create(new { name, publicKey }, options: Json), cancel);

    [Operation("listTrustedLedgers", "GET", "/api/trusted-ledgers")]
    public Task<JsonArray> ListTrustedLedgersAsync(CancellationToken cancel) =>
        SendAsync<JsonArray>(HttpMethod.Get, "/api/trusted-ledgers", null, cancel);

    [Operation("untrustLedger", "DELETE", "/api/trusted-ledgers/{fingerprint}")]
    public async Task UntrustLedgerAsync(string fingerprint, CancellationToken cancel) =>
        (await SendRawAsync(HttpMethod.Delete, $"/api/trusted-ledgers/{Uri.EscapeDataString(fingerprint)}", null, cancel)).Dispose();

    /// <summary>Every client method and the operation it calls (for the test against the document).</summary>
    public static IEnumerable<(MethodInfo Method, OperationAttribute Operation)> Operations() =>
        typeof(LedgerClient).GetMethods().Select(m => (m, m.GetCustomAttribute<OperationAttribute>())).Where(p => p.Item2 is not null)
            .Select(p => (p.m, p.Item2!));

    private static StreamContent Content(Stream body, string mediaType)
    {
        var content = new StreamContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancel)
    {
        using var response = await SendRawAsync(method, path, content, cancel);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancel)
                   ?? throw new LedgerCliException(ExitCodes.ServerError, $"The ledger answered {path} with nothing.");
        }
        catch (JsonException ex)
        {
            throw new LedgerCliException(ExitCodes.ServerError, $"The ledger's answer to {path} does not read as expected ({ex.Message}).");
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, HttpContent? content, CancellationToken cancel,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        HttpResponseMessage response;
        try
        {
            var request = new HttpRequestMessage(method, path) { Content = content };
            // A file sent whole (a CSV, an export): the ledger may refuse it before it is sent (413), and that answer is read.
            if (content is StreamContent) request.Headers.ExpectContinue = true;
            response = await http.SendAsync(request, completion, cancel);
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
        {
            throw new LedgerCliException(ExitCodes.Unreachable,
                $"No ledger answers at {http.BaseAddress} ({ex.Message}). Start one with ./run.sh, or give its address with --url or LEDGER_URL.");
        }
        catch (HttpRequestException ex)
        {
            throw new LedgerCliException(ExitCodes.Unreachable,
                $"The connection to the ledger at {http.BaseAddress} broke during {method} {path} ({ex.InnerException?.Message ?? ex.Message}).");
        }
        catch (TaskCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new LedgerCliException(ExitCodes.Unreachable,
                $"The ledger at {http.BaseAddress} did not answer {path} within {http.Timeout.TotalSeconds:F0} s.");
        }
        if (response.IsSuccessStatusCode) return response;
        using (response) throw new LedgerCliException(ExitCodes.ForStatus((int)response.StatusCode), await ReasonAsync(response, cancel));
    }

    /// <summary>The ledger's reason for a refusal, in one line: its problem's title and detail, and each error it names.</summary>
    private static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancel)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync(cancel);
        var parts = new List<string>();
        try
        {
            if (JsonNode.Parse(body) is JsonObject problem)
            {
                if (problem["title"]?.GetValue<string>() is { Length: > 0 } title) parts.Add(title.TrimEnd('.') + ".");
                if (problem["detail"]?.GetValue<string>() is { Length: > 0 } detail) parts.Add(detail);
                if (problem["errors"] is JsonObject errors)
                    parts.AddRange(errors.SelectMany(e => e.Value?.AsArray().Select(m => m?.GetValue<string>()) ?? []).OfType<string>().Take(5));
            }
        }
        catch (JsonException)
        {
        }
        var reason = parts.Count > 0 ? string.Join(" ", parts) : body.Length is > 0 and < 300 ? body.Trim() : response.ReasonPhrase ?? "";
        var hint = status switch
        {
            401 => " Give a token with --token or LEDGER_TOKEN (an admin makes one: ledger tokens create).",
            _ => "",
        };
        return $"{status} {(HttpStatusCode)status}: {reason.ReplaceLineEndings(" ")}{hint}";
    }

    public void Dispose() => http.Dispose();
}
