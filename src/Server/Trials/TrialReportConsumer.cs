using MassTransit;
using ScalingLedger.Contracts;

namespace ScalingLedger.Server.Trials;

/// <summary>
/// The one entry point of every report type a trainer sends (<see cref="TrainerReports.Types"/>, registered by
/// <see cref="ReportIntake.AddTo"/>): each is handed to <see cref="ReportIntake"/>, which reads what the report is about,
/// asks the Domain's <c>ReportDecisions</c> what to do, and does it.
/// </summary>
public sealed class TrialReportConsumer<T>(ReportIntake intake) : IConsumer<T> where T : class, ITrainerReport
{
    public Task Consume(ConsumeContext<T> context) => intake.TakeAsync(context);
}
