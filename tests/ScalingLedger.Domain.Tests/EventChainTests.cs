using CsCheck;
using ScalingLedger.Domain.Ledger;

namespace ScalingLedger.Domain.Tests;

public class EventChainTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A chain of <paramref name="n"/> events as the writer makes it: each hashed over the one before.</summary>
    private static (List<ChainedEvent> Events, ChainHead Head) Chain(int n, long from = 1)
    {
        var events = new List<ChainedEvent>();
        for (long v = 1; v < from; v++) events.Add(new ChainedEvent(v, v, "old_event", "u", At, $$"""{"n":{{v}}}""", null));
        var previous = EventChain.Genesis;
        for (var v = from; v < from + n; v++)
        {
            var json = $$"""{"studyId":"s","loss":{{0.1 * v}},"name":"trial {{v}}"}""";
            var hash = EventChain.Hash(previous, "loss_checkpoint_recorded", v, "trainer@a", At.AddSeconds(v), json);
            events.Add(new ChainedEvent(100 + v, v, "loss_checkpoint_recorded", "trainer@a", At.AddSeconds(v), json, hash));
            previous = hash;
        }
        return (events, new ChainHead(from, from + n - 1, previous));
    }

    [Fact]
    public void An_untouched_chain_is_intact_and_its_head_is_the_last_hash()
    {
        var (events, head) = Chain(5);
        var verdict = EventChain.Verify(events, head);
        verdict.Intact.ShouldBeTrue(verdict.FirstBroken?.Why);
        verdict.Events.ShouldBe(5);
        verdict.ChainedFrom.ShouldBe(1);
        verdict.Unchained.ShouldBe(0);
    }

    [Fact]
    public void The_stored_json_hashes_the_same_whatever_its_key_order_spacing_and_number_spelling()
    {
        // PostgreSQL's jsonb gives the keys back in its own order, with its own spacing, and spells numbers its own way.
        EventChain.Canonical("""{"b":1,"a":[1.50,{"y":"é","x":null}],"c":true}""")
            .ShouldBe(EventChain.Canonical("""{ "c": true, "a": [1.5, {"x": null, "y": "\u00e9"}], "b": 1.0 }"""));
        EventChain.Canonical("""{"a":"<img src=x>"}""").ShouldNotBe(EventChain.Canonical("""{"a":"<img src=y>"}"""));
        // What PostgreSQL gave back for what System.Text.Json wrote (select '{"a": -0.0, "b": 1E-07}'::jsonb).
        EventChain.Canonical("""{"a":-0,"b":1E-07,"c":1.5E+300}""").ShouldBe(EventChain.Canonical(
            """{"a": 0.0, "b": 0.0000001, "c": 15""" + new string('0', 299) + "}"));
    }

    [Fact]
    public void An_edited_event_breaks_the_chain_at_that_event_whatever_was_changed()
    {
        var (events, head) = Chain(6);
        ChainedEvent[] edits =
        [
            events[3] with { Json = events[3].Json.Replace("0.4", "0.3") },
            events[3] with { Json = events[3].Json.Replace("}", ""","extra":1}""") },
            events[3] with { User = "someone else" },
            events[3] with { Timestamp = events[3].Timestamp.AddMicroseconds(1) },
            events[3] with { Type = "trial_completed" },
        ];
        foreach (var edited in edits)
        {
            var tampered = events.ToList();
            tampered[3] = edited;
            var verdict = EventChain.Verify(tampered, head);
            verdict.Intact.ShouldBeFalse();
            verdict.FirstBroken!.Version.ShouldBe(4);
            verdict.FirstBroken.Why.ShouldContain("edited");
        }
    }

    [Fact]
    public void A_deleted_event_in_the_middle_or_at_the_end_is_named()
    {
        var (events, head) = Chain(6);
        var middle = events.Where(e => e.Version != 3).ToList();
        EventChain.Verify(middle, head).FirstBroken!.Why.ShouldContain("version 3 is missing");
        var end = events.Take(5).ToList();
        var verdict = EventChain.Verify(end, head);
        verdict.Intact.ShouldBeFalse();
        verdict.FirstBroken!.Why.ShouldContain("after version 5 were deleted");
    }

    [Fact]
    public void A_chain_rewritten_wholesale_no_longer_passes_through_a_head_kept_outside()
    {
        var (events, kept) = Chain(6);
        // Someone with the database edits version 2 and recomputes every hash after it, and the head beside them.
        var rewritten = new List<ChainedEvent> { events[0] };
        var previous = events[0].Hash!;
        foreach (var e in events.Skip(1))
        {
            var json = e.Version == 2 ? e.Json.Replace("0.2", "0.1") : e.Json;
            var hash = EventChain.Hash(previous, e.Type, e.Version, e.User, e.Timestamp, json);
            rewritten.Add(e with { Json = json, Hash = hash });
            previous = hash;
        }
        var forgedHead = new ChainHead(1, 6, previous);
        EventChain.Verify(rewritten, forgedHead).Intact.ShouldBeTrue("a rewrite with every hash recomputed is consistent in itself");
        var verdict = EventChain.Verify(rewritten, forgedHead, expected: kept);
        verdict.Intact.ShouldBeFalse();
        verdict.FirstBroken!.Why.ShouldContain("head kept outside");
    }

    [Fact]
    public void A_study_recorded_before_chaining_is_chained_from_its_first_hashed_event_and_says_so()
    {
        var (events, head) = Chain(3, from: 5);
        var verdict = EventChain.Verify(events, head);
        verdict.Intact.ShouldBeTrue(verdict.FirstBroken?.Why);
        verdict.ChainedFrom.ShouldBe(5);
        verdict.Unchained.ShouldBe(4);

        var old = Chain(0, from: 4).Events;
        var none = EventChain.Verify(old, null);
        none.Intact.ShouldBeFalse("a study with no chain is never intact: nothing proves it");
        none.Verifiable.ShouldBeFalse();
        none.FirstBroken.ShouldBeNull();
        none.Says().ShouldStartWith("Not verifiable");
        none.ChainedFrom.ShouldBeNull();
        none.Unchained.ShouldBe(3);
    }

    [Fact]
    public void An_unhashed_event_recorded_after_the_ledger_began_chaining_is_a_break_even_where_the_study_has_no_chain()
    {
        // Every hash and the head removed from a study: its events sit after the sequence the ledger began chaining at.
        var (events, _) = Chain(4);
        var stripped = events.Select(e => e with { Hash = null }).ToList();
        var verdict = EventChain.Verify(stripped, head: null, chainingSince: 50);
        verdict.Intact.ShouldBeFalse();
        verdict.FirstBroken!.Version.ShouldBe(1);
        verdict.FirstBroken.Why.ShouldContain("after the ledger began chaining");
        // Events recorded before the ledger chained (sequences below it) are only unverifiable.
        var old = Chain(0, from: 4).Events;
        EventChain.Verify(old, null, chainingSince: 50).FirstBroken.ShouldBeNull();
    }

    /// <summary>A chain whose hashes cover each event's recorded sequence (as the writer makes it now).</summary>
    private static (List<ChainedEvent> Events, ChainHead Head) Sequenced(int n)
    {
        var events = new List<ChainedEvent>();
        var previous = EventChain.Genesis;
        for (long v = 1; v <= n; v++)
        {
            var json = $$"""{"studyId":"s","loss":{{0.1 * v}}}""";
            var hash = EventChain.Hash(previous, "trial_completed", v, "trainer@a", At.AddSeconds(v), json, 100 + v);
            events.Add(new ChainedEvent(100 + v, v, "trial_completed", "trainer@a", At.AddSeconds(v), json, hash));
            previous = hash;
        }
        return (events, new ChainHead(1, n, previous, SequencedFrom: 1));
    }

    [Fact]
    public void Moving_an_event_to_another_sequence_breaks_the_chain_there()
    {
        var (events, head) = Sequenced(5);
        EventChain.Verify(events, head).Intact.ShouldBeTrue();
        // An event's own sequence edited, or (for a study brought from another ledger) the sequence it was recorded at.
        foreach (var moved in new[] { events[2] with { Sequence = 1 }, events[2] with { Recorded = 1 } })
        {
            var tampered = events.ToList();
            tampered[2] = moved;
            var verdict = EventChain.Verify(tampered, head);
            verdict.FirstBroken!.Version.ShouldBe(3);
            verdict.FirstBroken.Why.ShouldContain("moved");
        }
        // Saying the chain never covered sequences does not help: the hashes were made with them.
        EventChain.Verify(events, head with { SequencedFrom = null }).Intact.ShouldBeFalse();
        EventChain.Verify(events, head with { SequencedFrom = 4 }).Intact.ShouldBeFalse();
    }

    [Fact]
    public void An_import_seals_the_sequences_of_the_events_it_brought()
    {
        var (events, _) = Sequenced(4);
        var sealedDigest = SequenceDigest.Of(events.Select(e => (e.Version, e.RecordedSequence)));
        var seal = new ImportSeal(4, sealedDigest, "admin", At, "ab12", null, false);
        var record = new ChainedEvent(200, 5, "study_events_imported", "admin", At, "{}", "h");
        ImportSeal? SealOf(ChainedEvent e) => e.Type == "study_events_imported" ? seal : null;
        // Hashes are not checked here (no head): only what the seal says of the sequences before it.
        var rows = events.Select(e => e with { Hash = null }).Append(record with { Hash = null }).ToList();
        EventChain.Verify(rows, null, sealOf: SealOf).Imports.ShouldBe([seal]);
        rows[1] = rows[1] with { Recorded = 3 };
        var verdict = EventChain.Verify(rows, null, sealOf: SealOf);
        verdict.FirstBroken!.Version.ShouldBe(5);
        verdict.FirstBroken.Why.ShouldContain("not those it recorded");
        seal.Says().ShouldContain("Events 1..4 were imported by admin");
        seal.Says().ShouldContain("unverified origin");
    }

    [Fact]
    public void An_event_slipped_in_without_a_hash_after_the_chain_began_is_named()
    {
        var (events, head) = Chain(4);
        var slipped = events.ToList();
        slipped[2] = slipped[2] with { Hash = null };
        EventChain.Verify(slipped, head).FirstBroken!.Why.ShouldContain("no hash");
    }

    [Fact]
    public void Any_change_to_any_field_changes_the_hash()
    {
        Gen.Select(Gen.String[0, 40], Gen.Long[1, 1_000_000], Gen.Double[-1e6, 1e6]).Sample((user, version, value) =>
        {
            var json = $$"""{"v":{{value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}}}""";
            var hash = EventChain.Hash(EventChain.Genesis, "t", version, user, At, json);
            EventChain.Hash(EventChain.Genesis, "t", version + 1, user, At, json).ShouldNotBe(hash);
            EventChain.Hash(EventChain.Genesis, "t", version, user + "x", At, json).ShouldNotBe(hash);
            EventChain.Hash(EventChain.Genesis, "t2", version, user, At, json).ShouldNotBe(hash);
            EventChain.Hash(EventChain.Genesis, "t", version, user, At, """{"v":"x"}""").ShouldNotBe(hash);
        }, iter: 200);
    }
}
