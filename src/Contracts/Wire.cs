namespace ScalingLedger.Contracts;

/// <summary>The queues the Server and the trainers share (MassTransit endpoint names; changing one strands messages).</summary>
public static class Queues
{
    /// <summary>RunTrial commands, taken one at a time by each trainer.</summary>
    public const string RunTrial = "run-trial";

    /// <summary>RunCoordinateCheck commands.</summary>
    public const string RunCoordinateCheck = "run-coordinate-check";

    /// <summary>What trainers report (published; the Server's consumer endpoint).</summary>
    public const string TrialReports = "trial-reports";

    /// <summary>The address a command is sent to.</summary>
    public static Uri Address(string queue) => new($"queue:{queue}");
}

/// <summary>
/// What a trainer's report carries beside it as message headers (the messages themselves are unchanged). Trainers before
/// the run header also sent "ScalingLedger-Report-Attempt" and "ScalingLedger-Report-Index", which the Server no longer reads.
/// </summary>
public static class ReportHeaders
{
    /// <summary>The run (one delivery of the trial's command) the report is from: the Server tells attempts apart by it.</summary>
    public const string Run = "ScalingLedger-Report-Run";
}

/// <summary>
/// The JSON of the HTTP API (web defaults, enums by name, numbers only as numbers): the Server answers with it and the
/// <c>ledger</c> command line reads with it, so the two cannot disagree on a field's spelling.
/// </summary>
public static class LedgerJson
{
    public static System.Text.Json.JsonSerializerOptions Api { get; } = Configure(new(System.Text.Json.JsonSerializerDefaults.Web));

    public static System.Text.Json.JsonSerializerOptions Configure(System.Text.Json.JsonSerializerOptions options)
    {
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        // A key given twice is ambiguous (which name did the sender mean?): such a body is refused, never read as its last.
        options.AllowDuplicateProperties = false;
        // The web defaults also read a number written as text ("8"), and the API document then declares every number as
        // "integer or string": a number is a number, both in what is read and in what the document says.
        options.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        return options;
    }
}
