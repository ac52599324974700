using ScalingLedger.Benchmarks;

// Benchmark commands: they print figures, they assert nothing (see the README, "Performance").
//   refit [--recording FILE] [--fitter VERSION] [repetitions [resamples]]   refit every law of a 432-trial study
//   ledger [trials,...] [--recording FILE]     the whole ledger path at 432 and 4,320 trials, replaying real curves,
//                                              then the study's export, import into empty ledgers and report
//   browser [trials,...]                       the study page in headless Chromium (needs the Server built in Release)
//   record STUDY.json RECORDING.json           make a recording from a study (GET /api/studies/{id})
//   reimport EXPORT.json [--audits N]          an exported study into an empty ledger: imported, verified, every audit re-derived
//   calibration [RECORDING.json ...]           how often the 95% intervals hold, over real sweeps replayed through the reactor
//   metz [RECORDING.json] [--observed 3] [--at 1024,2048]
//                                              Metz's failure head to head: the claims made from the first widths about the widest
//   team-load [trials] [--seconds 60] [--trainers 8] [--servers 2] [--backlog]
//                                              over the real broker: trainer processes -> RabbitMQ -> 2 Servers (scripts/team.sh)
return args.FirstOrDefault() switch
{
    "ledger" => await LedgerBenchmark.RunAsync(args[1..]),
    "browser" => await BrowserBenchmark.RunAsync(args[1..]),
    "record" => Recording.Make(args[1..]),
    "reimport" => await ReimportCheck.RunAsync(args[1..]),
    "calibration" => CalibrationBenchmark.Run(args[1..]),
    "metz" => MetzHeadToHead.Run(args[1..]),
    "team-load" => await TeamLoadBenchmark.RunAsync(args[1..]),
    "refit" => Refit(args[1..]),
    null => Refit([]),
    var other => Usage(other),
};

static int Refit(string[] args)
{
    RefitBenchmark.Run(args);
    return 0;
}

static int Usage(string verb)
{
    Console.Error.WriteLine($"Unknown benchmark '{verb}'. Use: refit | ledger [432,4320] [--recording FILE] | browser [432,4320] | " +
        "record STUDY.json OUT.json | reimport EXPORT.json [--audits N] | calibration [RECORDING.json ...] | " +
        "metz [RECORDING.json] [--observed 3] [--at 1024,2048] | " +
        "team-load [432] [--seconds 60] [--trainers 8] [--servers 2] [--backlog]");
    return 2;
}
