using Marten.Exceptions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ScalingLedger.Server.Store;

/// <summary>
/// A read that meets a stored event this version cannot read (see <see cref="LedgerUpgrade"/>, which skips and lists it) says
/// which event, rather than a bare 500: the study's other reads, and every other study, go on as before.
/// </summary>
public sealed class UnreadableEventHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancel)
    {
        var detail = exception switch
        {
            EventDeserializationFailureException bad =>
                $"Event {bad.Sequence} ({bad.EventTypeName}) of the ledger cannot be read by this version of the Server",
            UnknownEventTypeException unknown => $"The ledger holds an event of a type this version of the Server does not know " +
                                                 $"({unknown.Message.Split(" You may need", 2)[0].Split('\n')[0].TrimEnd('.', ' ')})",
            _ => null,
        };
        if (detail is null) return false;
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status500InternalServerError,
                Title = "A stored event cannot be read",
                Detail = detail + "; it is listed under readModel.skipped in /health and left in the store as it is. Reads that do not " +
                         "need it go on.",
            },
        });
    }
}
