using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace ScalingLedger.Server.Tests;

/// <summary><c>GET /api/compare?ids=</c>: two owners' sweeps side by side, and clear refusals of bad ids.</summary>
[Collection(PostgresCollection.Name)]
public sealed class CompareApiTests(PostgresFixture pg)
{
    [Fact]
    public async Task two_owners_sweeps_are_compared_law_by_law_and_cell_by_cell()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var client = app.CreateClient();
        // Two sweeps whose optimal-LR laws differ: the best rate shrinks with width for alice (d = -1), not for bob (d = 0).
        var alice = await ImportAsync(client, "alice-sweep", "alice", width => 0.01 * 64 / width, [32, 64, 128, 256]);
        var bob = await ImportAsync(client, "bob-sweep", "bob", _ => 0.01, [32, 64, 128]);

        var response = await client.GetAsync($"/api/compare?ids={alice},{bob}");
        var body = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body);
        var comparison = JsonNode.Parse(body)!;
        comparison["studies"]!.AsArray().Select(s => (string?)s!["owner"]).ShouldBe(["alice", "bob"]);
        // Cells: the union of both grids (4 widths x 5 rates); width 256 only in alice's.
        var cells = comparison["cells"]!.AsArray();
        cells.Count.ShouldBe(4 * 5);
        var cell256 = cells.First(c => (int)c!["width"]! == 256)!["perStudy"]!.AsArray();
        ((int)cell256[0]!["completed"]!).ShouldBe(1);
        ((int)cell256[1]!["planned"]!).ShouldBe(0);
        // The optimal-LR slopes: about -1 against about 0, and their intervals do not overlap.
        var d = comparison["laws"]!.AsArray().Single(l => (string?)l!["law"] == "optimal-lr" && (string?)l["parameter"] == "d")!;
        ((double)d["perStudy"]![0]!["value"]!).ShouldBe(-1, 0.15);
        ((double)d["perStudy"]![1]!["value"]!).ShouldBe(0, 0.15);
        ((bool?)d["agree"]).ShouldBe(false);
    }

    [Theory]
    [InlineData("", "at least two")]
    [InlineData("abc,def", "'abc' is not a study id")]
    [InlineData("01a22200-0000-7000-8000-000000000001", "at least two")]
    public async Task bad_ids_are_refused_naming_the_problem(string ids, string problem)
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var response = await app.CreateClient().GetAsync($"/api/compare?ids={ids}");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["errors"]!["ids"]![0]!.GetValue<string>().ShouldContain(problem);
    }

    [Fact]
    public async Task an_id_that_names_no_study_is_a_404_naming_it()
    {
        await using var app = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        var missing = Guid.NewGuid();
        var response = await app.CreateClient().GetAsync($"/api/compare?ids={Guid.NewGuid()},{missing}");
        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await response.Content.ReadAsStringAsync()).ShouldContain(missing.ToString());
    }

    /// <summary>
    /// A sweep of 5 rates (factors of 3 around 0.01) at each width, with a loss that is a parabola in ln(lr) around
    /// <paramref name="best"/> and falls with width; imported as CSV, so the laws are fitted by the reactor.
    /// </summary>
    private static async Task<Guid> ImportAsync(HttpClient client, string name, string owner, Func<int, double> best, int[] widths)
    {
        var csv = new StringBuilder("width,learningRate,seed,loss\n");
        foreach (var width in widths)
            foreach (var rate in new[] { 0.001, 0.003, 0.01, 0.03, 0.1 })
            {
                var loss = 1 + 2 * Math.Pow(width, -0.3) + 0.05 * Math.Pow(Math.Log(rate / best(width)), 2);
                csv.Append(CultureInfo.InvariantCulture, $"{width},{rate},0,{loss:R}\n");
            }
        var response = await client.PostAsync($"/api/studies/import?name={name}&owner={owner}", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToJsonString());
        var id = body["id"]!.GetValue<Guid>();
        // The reactor fits imported studies beside the import: wait for the optimal-LR law.
        for (var i = 0; i < 200; i++)
        {
            var study = await StudyApi.GetAsync(client, $"/api/studies/{id}");
            if (study["latestFits"]!.AsArray().Any(f => (string?)f!["law"] == "optimal-lr")) return id;
            await Task.Delay(100);
        }
        throw new TimeoutException($"{name}: the optimal-LR law was not fitted within 20 s.");
    }
}
