using System.Reflection;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ScalingLedger.Contracts;
using ScalingLedger.Server.Intake;
using ScalingLedger.Server.Outbox;

namespace ScalingLedger.Server.Tests;

/// <summary>A trial command lost on the in-memory bus is sent again; its study ends (it once stayed Running for good).</summary>
[Collection(PostgresCollection.Name)]
public sealed class LostCommandTests(PostgresFixture pg)
{
    private static readonly string Recording = SiteBrowserTests.Recording;

    [Fact]
    public async Task a_trial_command_the_bus_lost_is_sent_again_and_the_study_completes_with_one_attempt_each()
    {
        var dropped = new DropOne(nth: 3);
        await using var app = await pg.NewLedgerAsync(
            s => s.Replace(ServiceDescriptor.Scoped(sp => new TrialDispatcher(dropped.Wrap(sp.GetRequiredService<ISendEndpointProvider>()),
                sp.GetRequiredService<IPublishEndpoint>(), sp.GetRequiredService<KnownTrials>()))),
            ("Trainer:Replay", Recording), ("Trainer:ReplayReportsPerSecond", "500"), ("Ledger:TrialLeaseSeconds", "5"), ("Trainer:HeartbeatSeconds", "1"));
        var client = app.CreateClient();
        var id = await StudyApi.DefineAsync(client, StudyApi.TinySpec(widths: [2, 3, 4], rates: [0.001, 0.01, 0.1]));

        var study = await StudyApi.WaitForStatusAsync(client, id, "Completed", TimeSpan.FromSeconds(90));

        dropped.Dropped.ShouldNotBeNull("the fault was not injected");
        var trials = study["trials"]!.AsArray();
        trials.Count.ShouldBe(9);
        var lost = trials.Single(t => t!["trialId"]!.GetValue<Guid>() == dropped.Dropped!.TrialId)!;
        lost["status"]!.GetValue<string>().ShouldBeOneOf("Completed", "Diverged");
        // Sent again for the same attempt, which was never taken: one run, one attempt, nothing duplicated.
        lost["attempt"]!.GetValue<int>().ShouldBe(1);
        var events = await StudyApi.GetArrayAsync(client, $"/api/studies/{id}/events");
        events.Count(e => e!["type"]!.GetValue<string>() == nameof(TrialStarted)).ShouldBe(9);
        app.Logs.Messages.ShouldContain(m => m.Contains("was not taken by this Server's trainer"));
    }

    /// <summary>Drops the <c>nth</c> RunTrial sent, once, as a bus that lost it would.</summary>
    private sealed class DropOne(int nth)
    {
        private int sent;
        public RunTrial? Dropped { get; private set; }

        public ISendEndpointProvider Wrap(ISendEndpointProvider inner) => new Provider(inner, this);

        private bool Drops(object? message)
        {
            if (message is not RunTrial command || Interlocked.Increment(ref sent) != nth) return false;
            Dropped = command;
            return true;
        }

        private sealed class Provider(ISendEndpointProvider inner, DropOne drop) : ISendEndpointProvider
        {
            public ConnectHandle ConnectSendObserver(ISendObserver observer) => inner.ConnectSendObserver(observer);

            public async Task<ISendEndpoint> GetSendEndpoint(Uri address)
            {
                var endpoint = DispatchProxy.Create<ISendEndpoint, Endpoint>();
                ((Endpoint)(object)endpoint).Init(await inner.GetSendEndpoint(address), drop);
                return endpoint;
            }
        }

        /// <summary>Every Send overload of the real endpoint, but the dropped one returns at once.</summary>
        public class Endpoint : DispatchProxy
        {
            private ISendEndpoint target = null!;
            private DropOne drop = null!;

            internal void Init(ISendEndpoint inner, DropOne dropper) => (target, drop) = (inner, dropper);

            protected override object? Invoke(MethodInfo? method, object?[]? args)
            {
                if (method!.Name == nameof(ISendEndpoint.Send) && args is { Length: > 0 } && drop.Drops(args[0])) return Task.CompletedTask;
                return method.Invoke(target, args);
            }
        }
    }
}
