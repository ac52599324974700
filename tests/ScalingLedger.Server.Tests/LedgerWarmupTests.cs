using System.Net;
using Microsoft.Extensions.DependencyInjection;
using ScalingLedger.Server.Hosting;

namespace ScalingLedger.Server.Tests;

/// <summary>A Server that joins a ledger with studies says ready only after it has served itself the pages opened first.</summary>
[Collection(PostgresCollection.Name)]
public sealed class LedgerWarmupTests(PostgresFixture pg)
{
    [Fact]
    public async Task a_joining_server_is_ready_only_after_serving_itself_the_studies_a_study_and_a_trial()
    {
        await using var first = await pg.NewLedgerAsync(("Ledger:EmbeddedTrainer", "false"));
        await StudyApi.DefineAsync(first.CreateClient(), StudyApi.TinySpec("warm-me"));

        await using var joining = new LedgerApp(first.ConnectionString, [("Ledger:EmbeddedTrainer", "false")]);
        using var client = new HttpClient { BaseAddress = new Uri(joining.StartOnKestrel()) };
        var warmup = joining.Services.GetRequiredService<LedgerWarmup>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await client.GetAsync("/health")).StatusCode != HttpStatusCode.OK)
        {
            DateTime.UtcNow.ShouldBeLessThan(deadline, "the Server never said it was ready");
            await Task.Delay(100);
        }
        warmup.Warm.ShouldBeTrue();
        // /api/studies, /studies, the study's API and page, one of its trials' pages.
        warmup.Answered.ShouldBe(5);
    }
}
