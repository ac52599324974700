using System.Security.Cryptography;
using ScalingLedger.Contracts;
using ScalingLedger.Domain.Ledger;
using ScalingLedger.Domain.Studies;

namespace ScalingLedger.Domain.Tests;

/// <summary>
/// A study brought from another ledger passes the rules of live events and stays inside its own study; and its signature
/// covers every event, so an edited export does not verify.
/// </summary>
public class ImportRulesTests
{
    private static readonly DateTimeOffset At = StudyTestKit.Now;
    private static readonly string Hash64 = new('a', 64);

    /// <summary>A small study as a ledger records it: defined, one trial run to its end, a fit, a prediction and its resolution.</summary>
    private static (StudyTestKit Kit, List<ImportedEvent> Events) Recorded()
    {
        var kit = new StudyTestKit();
        var t = kit.Trial(32, 0.001);
        var fit = Guid.NewGuid();
        var prediction = Guid.NewGuid();
        object[] events =
        [
            kit.Defined,
            new TrialStarted(kit.StudyId, t.TrialId, 1, "w", "h", 2, "0.107", At, DatasetSha256: new Dictionary<string, string> { ["train"] = Hash64 }),
            new LossCheckpointRecorded(kit.StudyId, t.TrialId, 100, 0.5, 0.5, 0.8, At, Attempt: 1),
            new TrialCompleted(kit.StudyId, t.TrialId, 0.4, 0.9, 1000, 2.0, At),
            Fit(kit.StudyId, fit, [t.TrialId]),
            new PredictionIssued(kit.StudyId, prediction, fit, "fixed-lr-loglinear", "lr=0.001", 64, 0.001, 0.4, 0.3, 0.5, "planned", 4, [], "3.0.0", At),
            new PredictionResolved(kit.StudyId, prediction, 0.41, 0.01, 0.1, true, null, [t.TrialId], 7, At),
            new StudyAccessGranted(kit.StudyId, "bob", StudyAccessGranted.Manage, "tester", At),
            new StudyCancelled(kit.StudyId, "tester", "enough", At),
        ];
        return (kit, events.Select((e, i) => new ImportedEvent(i + 1, e, i == 1 ? "trainer@h" : "tester")).ToList());
    }

    private static LawFitted Fit(Guid study, Guid fit, IReadOnlyList<Guid> evidence, Guid? basedOn = null) =>
        new(study, fit, "fixed-lr-loglinear", "lr=0.001", "L(h) = a + b ln h", new Dictionary<string, double> { ["a"] = 1, ["b"] = -0.1 }, true, null,
            0.9, [new FitPoint(32, 0.4)], evidence, 4, "ols", "3.0.0", At, BasedOnFitId: basedOn);

    private static IReadOnlyList<string> With(List<ImportedEvent> events, int version, object data, string? user = "tester")
    {
        var edited = events.ToList();
        edited[version - 1] = new ImportedEvent(version, data, user);
        return ImportRules.Problems(((IStudyEvent)events[0].Data).StudyId, edited);
    }

    [Fact]
    public void a_study_as_a_ledger_records_it_passes()
    {
        var (kit, events) = Recorded();
        ImportRules.Problems(kit.StudyId, events).ShouldBeEmpty();
    }

    [Fact]
    public void an_event_about_a_trial_or_fit_or_prediction_outside_the_study_is_refused()
    {
        var (kit, events) = Recorded();
        var t = kit.Trial(32, 0.001);
        var elsewhere = Guid.NewGuid();
        // A trial end naming a trial of another study (the probe that changed another owner's loss).
        With(events, 4, new TrialCompleted(kit.StudyId, elsewhere, 0.000123, 0.9, 1000, 2.0, At)).ShouldHaveSingleItem()
            .ShouldContain("not one of the study's trials");
        // An event of another study in this one's stream.
        With(events, 4, new TrialCompleted(elsewhere, t.TrialId, 0.4, 0.9, 1000, 2.0, At)).ShouldHaveSingleItem().ShouldContain("another study");
        With(events, 5, Fit(kit.StudyId, Guid.NewGuid(), [elsewhere])).First().ShouldContain("its evidence names trial");
        With(events, 5, Fit(kit.StudyId, Guid.NewGuid(), [t.TrialId], basedOn: Guid.NewGuid())).ShouldContain(p => p.Contains("follows fit"));
        var issued = (PredictionIssued)events[5].Data;
        With(events, 6, issued with { FitId = Guid.NewGuid() }).ShouldContain(p => p.Contains("names fit"));
        var resolved = (PredictionResolved)events[6].Data;
        With(events, 7, resolved with { PredictionId = Guid.NewGuid() }).ShouldContain(p => p.Contains("resolves prediction"));
    }

    [Fact]
    public void the_study_begins_once_and_names_each_trial_once()
    {
        var (kit, events) = Recorded();
        With(events, 2, kit.Defined).ShouldContain(p => p.Contains("defined or imported once"));
        var twice = kit.Defined with { Trials = [.. kit.Defined.Trials, kit.Defined.Trials[0]] };
        With(events, 1, twice).ShouldContain(p => p.Contains("given twice"));
        var outside = kit.Defined with { Trials = [.. kit.Defined.Trials.Skip(1), kit.Defined.Trials[0] with { Width = 31 }] };
        With(events, 1, outside).ShouldContain(p => p.Contains("not a cell of its spec's grid"));
    }

    [Fact]
    public void names_users_and_reasons_keep_the_text_rules_of_live_input()
    {
        var (kit, events) = Recorded();
        var spec = kit.Defined.Spec;
        With(events, 1, kit.Defined with { Spec = spec with { Name = "\u001b[2J\u001b[Hcleared" } }).ShouldContain(p => p.Contains("control character"));
        With(events, 1, kit.Defined with { Spec = spec with { Name = new string('n', 1_000_000) } }).ShouldContain(p => p.Contains("1000000 characters"));
        With(events, 1, kit.Defined, user: "a\0b").ShouldContain(p => p.Contains("NUL"));
        var cancelled = (StudyCancelled)events[8].Data;
        With(events, 9, cancelled with { Reason = "=HYPERLINK(\"http://x\")\u202E" }).ShouldContain(p => p.Contains("bidirectional"));
        With(events, 8, new StudyAccessGranted(kit.StudyId, "bob", "own", "tester", At)).ShouldContain(p => p.Contains("permission"));
    }

    [Fact]
    public void a_report_that_a_trainer_could_not_send_is_refused_as_it_would_be_live()
    {
        var (kit, events) = Recorded();
        var started = (TrialStarted)events[1].Data;
        // A two-character dataset hash made the trial page fail; a NaN loss cannot be stored.
        With(events, 2, started with { DatasetSha256 = new Dictionary<string, string> { ["train"] = "ab" } }).ShouldContain(p => p.Contains("SHA-256"));
        var checkpoint = (LossCheckpointRecorded)events[2].Data;
        With(events, 3, checkpoint with { EvalLoss = double.NaN }).ShouldContain(p => p.Contains("finite"));
        With(events, 3, checkpoint with { Step = 10_000_000 }).ShouldContain(p => p.Contains("outside the trial"));
        // A trial's end before its start.
        var ended = events.Where(e => e.Version != 2).Select((e, i) => e with { Version = i + 1 }).ToList();
        ImportRules.Problems(kit.StudyId, ended).ShouldContain(p => p.Contains("start was never recorded"));
    }

    [Fact]
    public void the_ids_an_import_brings_are_every_trial_fit_prediction_and_check()
    {
        var (kit, events) = Recorded();
        var ids = ImportRules.IdsOf(events.Select(e => e.Data));
        ids.Trials.ShouldBe(kit.Defined.Trials.Select(t => t.TrialId).ToList());
        ids.Fits.ShouldHaveSingleItem().ShouldBe(((LawFitted)events[4].Data).FitId);
        ids.Predictions.ShouldHaveSingleItem().ShouldBe(((PredictionIssued)events[5].Data).PredictionId);
        ids.Checks.ShouldBeEmpty();
    }

    [Fact]
    public void a_signature_holds_for_the_statement_it_signed_and_for_nothing_else()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var publicKey = Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
        var study = Guid.NewGuid();
        var head = new ChainHead(1, 40, Hash64, 1);
        var sequences = SequenceDigest.Of([(1, 10), (2, 12)]);
        var statement = ExportSignature.Statement(study, At, head, sequences, 40);
        var signature = ExportSignature.Sign(key, statement);
        ExportSignature.Verifies(publicKey, statement, signature).ShouldBeTrue();
        // Any edit of what it covers: the head (so any event's content), the sequences, the study, the time.
        ExportSignature.Verifies(publicKey, ExportSignature.Statement(study, At, head with { Hash = new string('b', 64) }, sequences, 40), signature)
            .ShouldBeFalse();
        ExportSignature.Verifies(publicKey, ExportSignature.Statement(study, At, head, SequenceDigest.Of([(1, 10), (2, 11)]), 40), signature)
            .ShouldBeFalse();
        ExportSignature.Verifies(publicKey, ExportSignature.Statement(Guid.NewGuid(), At, head, sequences, 40), signature).ShouldBeFalse();
        ExportSignature.Verifies(publicKey, ExportSignature.Statement(study, At.AddSeconds(1), head, sequences, 40), signature).ShouldBeFalse();
        // Re-signed by another key: it verifies only under that key, whose fingerprint is another ledger's.
        using var forger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = ExportSignature.Sign(forger, statement);
        ExportSignature.Verifies(publicKey, statement, forged).ShouldBeFalse();
        var forgerKey = Convert.ToBase64String(forger.ExportSubjectPublicKeyInfo());
        ExportSignature.FingerprintOf(forgerKey).ShouldNotBe(ExportSignature.FingerprintOf(publicKey));
        // Malformed input is a signature that does not hold, never an exception.
        ExportSignature.Verifies("not base64", statement, signature).ShouldBeFalse();
        ExportSignature.Verifies(publicKey, statement, "AAAA").ShouldBeFalse();
        ExportSignature.FingerprintOf("AAAA").ShouldBeNull();
        using var rsa = RSA.Create(2048);
        ExportSignature.FingerprintOf(Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())).ShouldBeNull();
    }
}
