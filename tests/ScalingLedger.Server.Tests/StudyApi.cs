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
        throw new TimeoutException($"Study {id} did not reach {status} within {timeout}: " +
            $"{study.ToJsonString(new JsonSerializerOptions { WriteIndented = true })[..Math.Min(3000, study.ToJsonString().Length)]}");
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
        throw new TimeoutException($"Not every trial of {id} reached {status} within {timeout}: " +
            string.Join(", ", study["trials"]!.AsArray().Select(t => t!["status"]!.GetValue<string>())));
    }
}
