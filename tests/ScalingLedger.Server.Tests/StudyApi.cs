using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ScalingLedger.Server.Tests;

/// <summary>Small helpers over the HTTP API, as a script would use it.</summary>
internal static class StudyApi
{
    public static JsonObject TinySpec(string name = "tiny", int[]? widths = null, double[]? rates = null, int steps = 30) => new()
    {
        ["name"] = name,
        ["owner"] = "tester",
        ["dataset"] = "fashion-mnist",
        ["model"] = new JsonObject
        {
            ["family"] = "mlp", ["hiddenLayers"] = 2, ["parameterization"] = "standard",
            ["widths"] = new JsonArray((widths ?? [8, 16]).Select(w => (JsonNode)w).ToArray()),
        },
        ["optimizer"] = new JsonObject
        {
            ["name"] = "adam", ["learningRates"] = new JsonArray((rates ?? [0.001, 0.01]).Select(r => (JsonNode)r).ToArray()),
        },
        ["seeds"] = new JsonArray(0),
        ["steps"] = steps,
        ["batchSize"] = 32,
        ["evalEvery"] = 10,
        ["targetWidths"] = new JsonArray(256),
    };

    public static async Task<Guid> DefineAsync(HttpClient client, JsonObject spec)
    {
        var response = await client.PostAsJsonAsync("/api/studies", spec);
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(201, body);
        response.Headers.Location!.ToString().ShouldStartWith("/api/studies/");
        return JsonNode.Parse(body)!["id"]!.GetValue<Guid>();
    }

    /// <summary>Imports a small study of runs trained elsewhere (fitted at once) and returns its id.</summary>
    public static async Task<Guid> ImportAsync(HttpClient client, string name,
        string csv = "width,learningRate,loss\n64,0.001,1.0\n128,0.001,0.9\n256,0.001,0.85\n512,0.001,0.82\n1024,0.001,0.8\n")
    {
        var response = await client.PostAsync($"/api/studies/import?name={name}", new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(201, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<Guid>();
    }

    public static async Task<JsonObject> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.ShouldBeTrue($"{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!.AsObject();
    }

    public static async Task<JsonArray> GetArrayAsync(HttpClient client, string path) =>
        JsonNode.Parse(await client.GetStringAsync(path))!.AsArray();

    /// <summary>Polls the study until its status is <paramref name="status"/>, or fails with what it last saw.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(HttpClient client, Guid id, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject study;
        do
        {
            study = await GetAsync(client, $"/api/studies/{id}");
            if (study["status"]!.GetValue<string>() == status) return study;
            await Task.Delay(250);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Study {id} did not reach {status} within {timeout}: it is {study["status"]}, " +
            $"{study.ToJsonString().Length} characters; its trials: {Trials(study)}");
    }

    /// <summary>One line a trial: what a timed-out wait saw, short enough to read in a CI log.</summary>
    public static string Trials(JsonObject study) => string.Join("; ", study["trials"]!.AsArray().Select(t =>
        $"{t!["width"]}/{t["learningRate"]}/{t["seed"]} {t["status"]} attempt {t["attempt"]} on {t["workerId"]}, " +
        $"{t["checkpoints"]?.AsArray().Count ?? 0} checkpoint(s), last step {t["checkpoints"]?.AsArray().LastOrDefault()?["step"]}"));

    /// <summary>
    /// Polls <c>/health</c> until it answers 200: a host is ready once its bus has started (MassTransit starts it beside the
    /// host, not before the host answers) and it is warm; a loaded machine answered 503 to a first request.
    /// </summary>
    public static async Task WaitHealthyAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var response = await client.GetAsync("/health");
            if (response.StatusCode == System.Net.HttpStatusCode.OK) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(
                    $"/health did not answer 200 within {timeout}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Polls <c>/health</c> until every reactor has caught up with the ledger's last event: what follows an import (its fits)
    /// is then appended, and the study's stream stops growing.
    /// </summary>
    public static async Task WaitForReactorsAsync(HttpClient client, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject health;
        do
        {
            health = await GetAsync(client, "/health");
            var reactors = health["reactors"]!.AsArray();
            if (reactors.Count > 0 && reactors.All(r => r!["behind"]!.GetValue<long>() == 0)) return;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"The reactors did not catch up within {timeout}: {health["reactors"]!.ToJsonString()}");
    }

    /// <summary>Polls until every trial of the study has <paramref name="status"/>.</summary>
    public static async Task<JsonObject> WaitForAllTrials(HttpClient client, Guid id, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject study;
        do
        {
            study = await GetAsync(client, $"/api/studies/{id}");
            if (study["trials"]!.AsArray().All(t => t!["status"]!.GetValue<string>() == status)) return study;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"Not every trial of {id} reached {status} within {timeout}: {Trials(study)}");
    }
}
